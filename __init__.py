"""vksroom: the courtroom VKS room controller.

Layers (dependencies point one way, left to right never right to left):
``drivers`` (device protocols and transports) <- ``controller`` (room state, checks,
self-test, schedule) <- ``web`` and ``mqtt`` (adapters, side by side) <- ``app`` (the
one entry module that wires them). ``hil`` holds device simulators; it imports none
of the layers above.
"""

try:   # written from git by setuptools-scm when the wheel (or the editable install) is built
    from vksroom._version import __version__
except ImportError:   # pragma: no cover - a checkout never built
    __version__ = "0.0.0"
