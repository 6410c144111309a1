"""One PTZ camera, whatever it speaks: the interface the room and the panel use.

Neutral units, as Home Assistant's ONVIF PTZ service and ONVIF's own generic spaces have
them, so no protocol's wire units leak upwards:

* ``pan`` and ``tilt`` from -1.0 to 1.0 (full left / down .. full right / up of the camera's
  range), ``zoom`` from 0.0 (widest) to 1.0 (tele);
* ``speed`` from 0.0 (exclusive) to 1.0: a fraction of the camera's fastest move;
* presets by number, 1 to :attr:`PtzCamera.preset_count`, as the camera's remote numbers
  them (VISCA also has 0); a protocol that names presets (ONVIF tokens) keeps its own mapping;
* power ``"on"`` or ``"standby"``; a camera that is still initialising after power-on
  raises :class:`~vksroom.drivers.errors.DeviceNotReady` from :meth:`PtzCamera.power`.

Methods block until the camera answered (a move until it has ended, with ``wait=True``) and
raise only :mod:`vksroom.drivers.errors`. A question to a camera that is gone fails within
about a second (the room polls every second and must call a camera lost within 3 s), so an
implementation's defaults are the room's. Implementations: ``drivers/visca`` (VISCA over IP,
raw IP and serial) and ``drivers/onvif`` (ONVIF Profile S over HTTP/SOAP). Which one opens a
URL is decided by :func:`open_ptz` from the URL's scheme.

A protocol is one module named in :data:`PTZ_SCHEMES`. It offers ``open_ptz(url, **settings)``
(an opened :class:`PtzCamera`) and may offer ``check_settings(url, settings)`` raising
ConfigError for a bad URL or setting before anything opens (:func:`check_ptz` calls it: the
room's config check).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True)
class Position:
    pan: float     # -1..1
    tilt: float    # -1..1
    zoom: float    # 0..1

    def distance(self, other: "Position") -> float:
        """How far apart two positions are: the larger of the pan and tilt differences."""
        return max(abs(self.pan - other.pan), abs(self.tilt - other.tilt))


class PtzCamera(ABC):
    protocol = "ptz"          # "visca", "onvif"
    preset_count = 254
    has_standby = True        # False: the protocol has no standby (ONVIF); standby() refuses

    # -- life cycle ---------------------------------------------------------------------------

    @abstractmethod
    def open(self) -> "PtzCamera":
        """(Re)open the link and initialise the camera; safe to call again."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @abstractmethod
    def describe(self) -> str:
        """Where the camera is, for logs and the technician (never shown to court staff)."""

    # -- state ---------------------------------------------------------------------------------

    @abstractmethod
    def power(self) -> str:
        """``on`` or ``standby``; raises DeviceNotReady while the camera initialises."""

    @abstractmethod
    def power_on(self) -> None:
        """Switch on and return once the camera has initialised."""

    @abstractmethod
    def standby(self) -> None: ...

    @abstractmethod
    def position(self) -> Position: ...

    def frozen(self) -> bool | None:
        """Whether the camera holds one still picture on its output (a picture freeze left
        on: its stream runs, the far side sees a still room); None where it cannot tell (the
        protocol has no such question, or this model does not know it: then it is not asked
        again). Raises DeviceNotReady while the camera initialises."""
        return None

    def unfreeze(self) -> None:
        """Switch the picture freeze off; nothing to do where the camera has none."""

    @abstractmethod
    def info(self) -> dict:
        """What the camera says of itself: ``{"model": ..., "firmware": ...}`` (strings)."""

    def state(self) -> dict:
        """Power and position for the panel, in neutral units."""
        power = self.power()
        out: dict[str, object] = {"power": power, "protocol": self.protocol}
        if power == "on":
            p = self.position()
            out.update(pan=round(p.pan, 4), tilt=round(p.tilt, 4), zoom=round(p.zoom, 4))
        return out

    # -- moving --------------------------------------------------------------------------------

    @abstractmethod
    def move_to(self, pan: float, tilt: float, zoom: float | None = None, speed: float = 1.0,
                wait: bool = True) -> None:
        """An absolute move (and zoom, when given)."""

    @abstractmethod
    def move_by(self, pan: float, tilt: float, speed: float = 0.5, wait: bool = True) -> None:
        """A relative move by a fraction of the range (``pan=0.05``: 2.5 % of the full sweep)."""

    @abstractmethod
    def zoom_to(self, zoom: float, wait: bool = True) -> None: ...

    @abstractmethod
    def stop(self) -> None:
        """Stop any pan, tilt or zoom under way."""

    @abstractmethod
    def recall(self, preset: int, wait: bool = True) -> None:
        """Go to a stored preset; with ``wait`` return once the camera has arrived."""

    @abstractmethod
    def store(self, preset: int) -> None:
        """Store the current view as a preset."""

    # -- pictures ------------------------------------------------------------------------------

    def from_native(self, pan, tilt, zoom=None) -> "Position | None":
        """A position in this protocol's own units (VISCA's whole numbers), as files written
        before neutral units hold them, in neutral units; None where the protocol has no such
        past (the default)."""
        return None

    def video_url(self) -> str | None:
        """Where the camera's picture can be read (an MJPEG/RTSP stream or a snapshot URL) when
        the camera itself says so (ONVIF GetStreamUri/GetSnapshotUri); None: configure it."""
        return None


C = TypeVar("C", bound="PtzCamera")


def opened(cam: C) -> C:
    """``cam`` opened; if opening fails it is closed again and the error raised (each
    protocol's ``open_ptz`` ends with this)."""
    try:
        cam.open()
    except BaseException:
        cam.close()
        raise
    return cam


def check_unit(name: str, value, lo: float = -1.0, hi: float = 1.0) -> float:
    """A neutral-unit argument, or ConfigError naming it."""
    from vksroom.drivers.errors import ConfigError

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= float(value) <= hi:
        raise ConfigError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")
    return float(value)


# URL scheme -> "module:function" opening a PtzCamera; each protocol registers its schemes here.
PTZ_SCHEMES: dict[str, str] = {
    "visca-ip": "vksroom.drivers.visca:open_ptz",
    "visca-tcp": "vksroom.drivers.visca:open_ptz",
    "visca-udp": "vksroom.drivers.visca:open_ptz",
    "visca-serial": "vksroom.drivers.visca:open_ptz",
    "onvif": "vksroom.drivers.onvif:open_ptz",
    "onvif-https": "vksroom.drivers.onvif:open_ptz",
}


def _implementation(url: str):
    """The module of the protocol ``url``'s scheme names, and its opener's name."""
    import importlib

    from vksroom.drivers.errors import ConfigError

    scheme = url.split("://", 1)[0] if isinstance(url, str) and "://" in url else ""
    target = PTZ_SCHEMES.get(scheme)
    if target is None:
        raise ConfigError(f"unknown camera URL scheme {scheme!r} (known: {', '.join(PTZ_SCHEMES)})")
    module, _, name = target.partition(":")
    try:
        return importlib.import_module(module), name
    except ImportError as exc:
        raise ConfigError(f"camera URL scheme {scheme!r} needs {module}, which cannot be loaded: {exc}") from None


def open_ptz(url: str, **settings) -> PtzCamera:
    """Open the camera at ``url`` with the protocol its scheme names."""
    module, name = _implementation(url)
    return getattr(module, name)(url, **settings)


def check_ptz(url: str, settings: dict | None = None) -> None:
    """Refuse a bad camera URL or setting with ConfigError, before anything is opened: the
    scheme must be known and its protocol's own ``check_settings`` (where it has one) agree."""
    module, _ = _implementation(url)
    check = getattr(module, "check_settings", None)
    if check is not None:
        check(url, dict(settings or {}))
