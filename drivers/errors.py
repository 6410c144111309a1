"""Errors every driver raises. Each message says what happened, in words a technician reads."""


class DeviceError(Exception):
    """Base of every device problem. ``str(err)`` is the clear reason."""


class TransportError(DeviceError):
    """The link itself failed: port gone, socket refused, cable pulled."""


class TransportClosed(TransportError):
    """The link was closed (by us or by the far end) and must be reopened."""


class DeviceTimeout(DeviceError):
    """The device did not answer within the time allowed."""


class ProtocolError(DeviceError):
    """The device answered, but not with something the protocol allows.

    An odd reply is an error for that command, not a dead transport.
    """


class DeviceRejected(DeviceError):
    """The device understood the request and refused it (for example a VISCA error reply)."""

    def __init__(self, message: str, code: str | int | None = None):
        super().__init__(message)
        self.code = code


class DeviceNotReady(DeviceRejected):
    """The device refuses for now and will accept later: a camera initialising after power-on
    (VISCA error 41). Not a lost device: wait, or say it is still starting."""


class ConfigError(ValueError):
    """A setting (URL, parameter) is wrong. Raised before anything is sent."""


class UsageError(Exception):
    """What was typed for one command is wrong (an argument, a port already taken): printed
    plainly, exit 2. It lives here, at the bottom, so that the commands of every layer can
    raise it without importing the command line (``cli.py`` maps it to the exit status)."""
