"""VISCA as one implementation of :class:`~vksroom.drivers.camera.PtzCamera`.

:class:`ViscaPtz` wraps a :class:`~vksroom.drivers.visca.camera.Camera` and converts the
interface's neutral units to VISCA's with the camera's ranges, from its settings::

    pan_min, pan_max    pan -1 .. 1    (default -0x08DB .. 0x08DB: a Sony EVI-D70's -170..170 deg)
    tilt_min, tilt_max  tilt -1 .. 1   (default -0x0190 .. 0x04B0: -30..90 deg)
    zoom_max            zoom 0 .. 1    (default 0x4000: optical tele; 0x7AC0 reaches digital zoom)

Speeds 0..1 are fractions of VISCA's fastest (pan 0x18, tilt 0x17). A camera that refuses the
power inquiry with error 41 is still initialising: :class:`DeviceNotReady`. Presets keep
VISCA's numbers (0 to ``preset_count - 1``), so a room's config means what it meant.

A position the camera reports outside the configured range is clamped to the interface's
(and logged once): set the range to the camera's when that happens.
"""
from __future__ import annotations

import logging

from vksroom.drivers.camera import Position, PtzCamera, check_unit
from vksroom.drivers.errors import ConfigError, DeviceNotReady, DeviceRejected
from vksroom.drivers.visca import messages as m
from vksroom.drivers.visca.camera import Camera, check_settings as check_camera_settings, open_camera
from vksroom.drivers.visca.engine import NOT_EXECUTABLE

log = logging.getLogger(__name__)

# A Sony EVI-D70, the fact sheet's (and the simulator's) camera; other models: set the range.
DEFAULT_RANGES = {"pan_min": -0x08DB, "pan_max": 0x08DB, "tilt_min": -0x0190, "tilt_max": 0x04B0,
                  "zoom_max": 0x4000}


def check_settings(url: str, settings: dict) -> None:
    """The VISCA camera's own checks, and ranges that make sense: min below max, within VISCA."""
    check_camera_settings(url, settings)
    r = {**DEFAULT_RANGES, **{k: settings[k] for k in DEFAULT_RANGES if k in settings}}
    for axis in ("pan", "tilt"):
        lo, hi = r[f"{axis}_min"], r[f"{axis}_max"]
        if not -0x8000 <= lo < hi <= 0x7FFF:
            raise ConfigError(f"camera {url}: settings {axis}_min {lo} and {axis}_max {hi} must be "
                              f"{-0x8000}..{0x7FFF} with {axis}_min below {axis}_max")
    if not 0 < r["zoom_max"] <= m.ZOOM_MAX:
        raise ConfigError(f"camera {url}: setting zoom_max must be 1..{m.ZOOM_MAX}, got {r['zoom_max']}")


def open_ptz(url: str, **settings) -> "ViscaPtz":
    """Open and initialise the VISCA camera at ``url`` as a :class:`PtzCamera`."""
    check_settings(url, settings)
    return ViscaPtz(open_camera(url, **{**DEFAULT_RANGES, **settings}))


def _neutral(value: float, lo: int, hi: int) -> float:
    return 2.0 * (value - lo) / (hi - lo) - 1.0


def _units(value: float, lo: int, hi: int) -> int:
    return round(lo + (value + 1.0) * (hi - lo) / 2.0)


class ViscaPtz(PtzCamera):
    protocol = "visca"

    def __init__(self, camera: Camera):
        """Around a VISCA :class:`Camera` built with the ranges to convert with (see :func:`open_ptz`)."""
        self.camera = camera
        self.pan_range = self.camera.limits["pan"]
        self.tilt_range = self.camera.limits["tilt"]
        self.zoom_max = self.camera.zoom_max
        self.preset_count = self.camera.preset_count
        self._warned = False

    # -- units ---------------------------------------------------------------------------------

    def _speeds(self, speed: float) -> tuple[int, int]:
        s = check_unit("speed", speed, 0.0, 1.0)
        if s == 0:
            raise ConfigError("speed must be above 0 (a fraction of the fastest move), got 0")
        return max(1, round(s * m.PAN_SPEED_MAX)), max(1, round(s * m.TILT_SPEED_MAX))

    def from_native(self, pan, tilt, zoom=None) -> Position:
        """VISCA pan/tilt (and zoom) units, as camera-<id>.json held them before, in neutral units."""
        p, t = _neutral(pan, *self.pan_range), _neutral(tilt, *self.tilt_range)
        z = 0.0 if zoom is None else zoom / self.zoom_max
        return Position(p, t, z)

    def _clamped(self, p: Position) -> Position:
        out = Position(min(1.0, max(-1.0, p.pan)), min(1.0, max(-1.0, p.tilt)), min(1.0, max(0.0, p.zoom)))
        if out != p and not self._warned:
            self._warned = True
            log.warning("camera at %s reports a position outside its configured range (neutral %s): set its "
                        "pan_min/pan_max, tilt_min/tilt_max, zoom_max settings to the camera's", self.describe(), p)
        return out

    # -- life cycle ----------------------------------------------------------------------------

    def open(self) -> "ViscaPtz":
        self.camera.open()
        return self

    def close(self) -> None:
        self.camera.close()

    def describe(self) -> str:
        return self.camera.describe()

    # -- state ---------------------------------------------------------------------------------

    def power(self) -> str:
        try:
            return self.camera.power()
        except DeviceRejected as exc:
            if exc.code == NOT_EXECUTABLE:     # refused while it initialises after power-on
                raise DeviceNotReady(str(exc), exc.code) from exc
            raise

    def power_on(self) -> None:
        self.camera.power_on()

    def standby(self) -> None:
        self.camera.standby()

    def position(self) -> Position:
        pan, tilt = self.camera.position()
        return self._clamped(self.from_native(pan, tilt, self.camera.zoom_position()))

    def frozen(self) -> bool | None:
        try:
            mode = self.camera.freeze_mode()
        except DeviceRejected as exc:
            if exc.code == NOT_EXECUTABLE:
                raise DeviceNotReady(str(exc), exc.code) from exc
            raise
        return None if mode is None else mode == "on"

    def unfreeze(self) -> None:
        self.camera.freeze(False)

    def info(self) -> dict:
        v = self.camera.version()
        return {"model": v["model"], "firmware": v["rom"], "vendor": v["vendor"]}

    # -- moving --------------------------------------------------------------------------------

    def move_to(self, pan: float, tilt: float, zoom: float | None = None, speed: float = 1.0,
                wait: bool = True) -> None:
        p = _units(check_unit("pan", pan), *self.pan_range)
        t = _units(check_unit("tilt", tilt), *self.tilt_range)
        z = None if zoom is None else round(check_unit("zoom", zoom, 0.0, 1.0) * self.zoom_max)
        self.camera.move_absolute(p, t, speed=self._speeds(speed), wait=wait)
        if z is not None:
            self.camera.zoom_to(z, wait=wait)

    def move_by(self, pan: float, tilt: float, speed: float = 0.5, wait: bool = True) -> None:
        (plo, phi), (tlo, thi) = self.pan_range, self.tilt_range
        dp = round(check_unit("pan", pan, -2.0, 2.0) * (phi - plo) / 2.0)
        dt = round(check_unit("tilt", tilt, -2.0, 2.0) * (thi - tlo) / 2.0)
        self.camera.move_relative(dp, dt, speed=self._speeds(speed), wait=wait)

    def zoom_to(self, zoom: float, wait: bool = True) -> None:
        self.camera.zoom_to(round(check_unit("zoom", zoom, 0.0, 1.0) * self.zoom_max), wait=wait)

    def stop(self) -> None:
        self.camera.stop()
        self.camera.zoom("stop")

    def recall(self, preset: int, wait: bool = True) -> None:
        self.camera.recall(preset, wait=wait)

    def store(self, preset: int) -> None:
        self.camera.store(preset)
