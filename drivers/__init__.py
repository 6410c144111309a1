"""Device protocols and the transports under them.

Nothing here knows about a courtroom: a driver speaks to one device over one
:class:`~vksroom.drivers.transport.Transport` and raises the errors of
:mod:`vksroom.drivers.errors`.
"""
