"""One PTZ camera: the API the room uses, over any VISCA link.

``open_camera(url, **settings)`` parses a camera URL, builds the transport and link and
returns an opened, initialised :class:`Camera`::

    visca-ip://HOST[:PORT]          Sony VISCA over IP (UDP 52381)
    visca-tcp://HOST:PORT           raw VISCA over TCP (PTZOptics 5678, Avonic 1259)
    visca-udp://HOST:PORT           raw VISCA over UDP (PTZOptics/Avonic 1259)
    visca-serial:///dev/ttyUSB0?baud=9600&address=1
"""
from __future__ import annotations

import math
import threading
import time
import urllib.parse

from vksroom.drivers.errors import ConfigError, DeviceError, DeviceRejected, DeviceTimeout
from vksroom.drivers.transport import SerialTransport, TcpTransport, UdpTransport
from vksroom.drivers.visca import messages as m
from vksroom.drivers.visca.engine import NOT_EXECUTABLE, Engine, Outcome, Settings
from vksroom.drivers.visca.links import IpLink, RawLink, SerialBus, SerialLink, SharedUdpTransport

IP_PORT = 52381
SYNTAX_ERROR = 0x02     # VISCA error 02: a message this camera does not know
SCHEMES = ("visca-ip", "visca-tcp", "visca-udp", "visca-serial")
LINK_SETTINGS = ("sequence", "sequence_min", "sequence_max", "match_sequence")
CAMERA_SETTINGS = ("pan_min", "pan_max", "tilt_min", "tilt_max", "zoom_max", "preset_count", "local_port",
                   "shared_socket", "pan_speed", "tilt_speed")
# seconds settings with a range: (lowest, highest, what it is for, said in the error)
SECONDS = {"wait_41_s": (0.0, 120.0, "how long a command refused with error 41 is retried while the camera "
                                     "powers up; 0 never waits")}


def _number(url: str, key: str, value, lo: int, hi: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{url!r}: {key} must be a number, got {value!r}") from None
    if not lo <= n <= hi:
        raise ConfigError(f"{url!r}: {key} must be {lo}..{hi}, got {n}")
    return n


def parse_url(url: str) -> dict:
    """``{"scheme", "host", "port", "path", "baud", "address"}``; ConfigError naming the fault."""
    if not isinstance(url, str):
        raise ConfigError(f"camera URL must be text, got {url!r}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ConfigError(f"{url!r}: unknown scheme {parts.scheme or '(none)'!r} "
                          f"(use {', '.join(s + '://' for s in SCHEMES)})")
    query = dict(urllib.parse.parse_qsl(parts.query))
    out = {"scheme": parts.scheme, "address": _number(url, "address", query.pop("address", 1), 1, 7)}
    if parts.scheme == "visca-serial":
        if not parts.path.startswith("/"):
            raise ConfigError(f"{url!r} names no device path (e.g. visca-serial:///dev/ttyUSB0)")
        out.update(path=parts.path, baud=_number(url, "baud", query.pop("baud", 9600), 50, 4_000_000))
    else:
        if not parts.hostname:
            raise ConfigError(f"{url!r} names no host")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"{url!r}: the port is not a number from 1 to 65535") from None
        if port is None:
            if parts.scheme != "visca-ip":
                raise ConfigError(f"{url!r} names no port (raw VISCA has no standard port: PTZOptics "
                                  f"TCP 5678 / UDP 1259, Avonic 1259)")
            port = IP_PORT
        out.update(host=parts.hostname, port=port)
        if parts.scheme == "visca-ip":
            out["address"] = 1   # fixed over IP
    if query:
        raise ConfigError(f"{url!r}: unknown parameter(s) {', '.join(sorted(query))}")
    return out


def check_settings(url: str, settings: dict) -> None:
    """Refuse a bad URL or setting with :class:`ConfigError`, before anything is opened."""
    parse_url(url)
    known = set(Settings.__dataclass_fields__) | set(LINK_SETTINGS) | set(CAMERA_SETTINGS)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown camera setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    for key, (lo, hi, meaning) in SECONDS.items():
        value = settings.get(key, lo)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not lo <= value <= hi:
            raise ConfigError(f"camera {url}: setting {key} must be a number of seconds from {lo:g} to {hi:g} "
                              f"({meaning}), got {value!r}")
    Settings.from_dict(settings)
    if settings.get("sequence", "increment") not in ("increment", "zero"):
        raise ConfigError(f"setting sequence must be 'increment' or 'zero', got {settings['sequence']!r}")
    for key in ("sequence_min", "sequence_max", "local_port", "pan_min", "pan_max", "tilt_min", "tilt_max",
                "zoom_max", "preset_count", "pan_speed", "tilt_speed"):
        if key in settings and (isinstance(settings[key], bool) or not isinstance(settings[key], int)):
            raise ConfigError(f"setting {key} must be a whole number, got {settings[key]!r}")


def open_camera(url: str, **settings) -> "Camera":
    """Open and initialise the camera at ``url``. Unknown settings are refused."""
    check_settings(url, settings)
    cam = Camera(url, **settings)
    try:
        cam.open()
    except BaseException:
        cam.close()
        raise
    return cam


class Camera:
    """A VISCA PTZ camera. Methods block until the camera answered; errors are those of
    :mod:`vksroom.drivers.errors` (VISCA errors as DeviceRejected with ``.code``)."""

    def __init__(self, url: str, **settings):
        self.url = url
        self.where = parse_url(url)
        self.address = self.where["address"]
        self.settings = Settings.from_dict(settings)
        self.limits = {
            "pan": (int(settings.get("pan_min", -0x8000)), int(settings.get("pan_max", 0x7FFF))),
            "tilt": (int(settings.get("tilt_min", -0x8000)), int(settings.get("tilt_max", 0x7FFF))),
        }
        self.zoom_max = int(settings.get("zoom_max", m.ZOOM_MAX))
        self.preset_count = int(settings.get("preset_count", m.PRESET_MAX + 1))
        self.default_speed = (int(settings.get("pan_speed", 0x10)), int(settings.get("tilt_speed", 0x10)))
        self.link = self._make_link(settings)
        # inquiries never change for this camera: built once, not at every poll
        a = self.address
        self._inquiries = {
            "power": (m.power_inquiry(a), "power inquiry", m.decode_power),
            "position": (m.pan_tilt_inquiry(a), "pan-tilt position inquiry", m.decode_pan_tilt),
            "zoom": (m.zoom_inquiry(a), "zoom position inquiry", m.decode_zoom),
            "focus": (m.focus_mode_inquiry(a), "focus mode inquiry", m.decode_focus_mode),
            "freeze": (m.freeze_inquiry(a), "freeze inquiry", m.decode_freeze),
            "version": (m.version_inquiry(a), "version inquiry", m.decode_version),
        }
        self.engine = Engine(self.link, self.settings, power_state=self.power)
        self._closed = False
        self.has_freeze: bool | None = None   # None: not known yet; False: it answered error 02

    def _make_link(self, settings: dict):
        w = self.where
        if w["scheme"] == "visca-ip":
            local = int(settings.get("local_port", 0))
            transport: UdpTransport | SharedUdpTransport
            if settings.get("shared_socket", True):
                transport = SharedUdpTransport(w["host"], w["port"], local)
            else:
                transport = UdpTransport(w["host"], w["port"], local)
            return IpLink(transport, **{k: settings[k] for k in LINK_SETTINGS if k in settings})
        if w["scheme"] == "visca-tcp":
            return RawLink(TcpTransport(w["host"], w["port"]))
        if w["scheme"] == "visca-udp":
            return RawLink(UdpTransport(w["host"], w["port"]))
        key = f"{w['path']}@{w['baud']}"
        bus = SerialBus.shared(key, lambda: SerialTransport(w["path"], baudrate=w["baud"]))
        return SerialLink(bus, self.address, key)

    def describe(self) -> str:
        return self.link.describe()

    # --- life cycle -------------------------------------------------------------------------

    def open(self) -> "Camera":
        """(Re)open the link and initialise: RESET over IP, AddressSet + IF_Clear on serial,
        IF_Clear on raw links."""
        with self.link.lock:
            self._closed = self.link.shut = False
            self.has_freeze = None     # another camera may answer here now: ask it again
            self.link.open()
            self.engine.initialise()
            if self.where["scheme"] in ("visca-tcp", "visca-udp"):
                self.if_clear()
        return self

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.link.shut = True    # first: a thread mid-question must not reopen it
            self.link.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- helpers ----------------------------------------------------------------------------

    def _cmd(self, pkt: bytes, what: str, wait: bool = True, idempotent: bool = True, **kw) -> Outcome:
        return self.engine.command(pkt, what, wait=wait, idempotent=idempotent, **kw)

    def _check_limits(self, pan: int, tilt: int) -> None:
        for name, value in (("pan", pan), ("tilt", tilt)):
            lo, hi = self.limits[name]
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be a whole number, got {value!r}")
            if not lo <= value <= hi:
                raise ConfigError(f"{name} {value} is outside this camera's range {lo}..{hi}")

    def _speeds(self, speed) -> tuple[int, int]:
        if speed is None:
            return self.default_speed
        if isinstance(speed, tuple):
            return speed
        return min(int(speed), m.PAN_SPEED_MAX), min(int(speed), m.TILT_SPEED_MAX)

    def _settle(self, read, timeout: float | None = None):
        """After a lost Completion: poll until two readings agree (the move has ended)."""
        deadline = time.monotonic() + (timeout or self.settings.completion_timeout)
        last = read()
        while time.monotonic() < deadline:
            wake = threading.Event()
            wake.wait(0.05)
            now = read()
            if now == last:
                return now
            last = now
        raise DeviceTimeout(f"camera at {self.describe()} was still moving after "
                            f"{timeout or self.settings.completion_timeout:g} s")

    def _booted(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while True:
            try:
                if self.power() == "on":
                    return
            except DeviceRejected as exc:
                if exc.code != NOT_EXECUTABLE or time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise DeviceTimeout(f"camera at {self.describe()} was not on {timeout:g} s after power on")
            pause.wait(0.1)

    def _moved(self, outcome: Outcome, wait: bool) -> Outcome:
        if wait and not outcome.completion_known:
            self._settle(self.position)
        return outcome

    # --- commands ---------------------------------------------------------------------------

    def if_clear(self) -> None:
        self._cmd(m.if_clear(self.address), "IF_Clear")

    def power_on(self) -> None:
        """Power on from standby; returns once the camera has booted: on its Completion
        (a camera sends it when booted), or, where that was lost, once the power inquiry
        it refuses with 41 while booting says "on". At most ``wait_41_s`` (and no less
        than ``completion_timeout``)."""
        patience = max(self.settings.completion_timeout, self.settings.wait_41_s)
        try:
            out = self._cmd(m.power(self.address, True), "power on", completion_timeout=patience)
        finally:
            self.engine.powered_up()     # commands refused with 41 meanwhile are retried
        if not out.completion_known:
            self._booted(patience)

    def standby(self) -> None:
        self._cmd(m.power(self.address, False), "standby")

    def drive(self, direction: str, pan_speed: int | None = None, tilt_speed: int | None = None) -> None:
        ps, ts = self.default_speed
        pkt = m.pan_tilt_drive(self.address, direction, ps if pan_speed is None else pan_speed,
                               ts if tilt_speed is None else tilt_speed, self.settings.stop_speed)
        self._cmd(pkt, f"pan-tilt drive {direction}")

    def stop(self) -> None:
        self.drive("stop", self.settings.stop_speed, self.settings.stop_speed)

    def move_absolute(self, pan: int, tilt: int, speed=None, wait: bool = True) -> Outcome:
        self._check_limits(pan, tilt)
        ps, ts = self._speeds(speed)
        pkt = m.pan_tilt_position(self.address, pan, tilt, ps, ts, relative=False)
        return self._moved(self._cmd(pkt, f"move to pan {pan} tilt {tilt}", wait), wait)

    def move_relative(self, pan: int, tilt: int, speed=None, wait: bool = True) -> Outcome:
        ps, ts = self._speeds(speed)
        pkt = m.pan_tilt_position(self.address, pan, tilt, ps, ts, relative=True)
        # not idempotent: resent only where the camera can tell a resend (VISCA over IP)
        return self._moved(self._cmd(pkt, f"move by pan {pan} tilt {tilt}", wait, idempotent=False), wait)

    def home(self, wait: bool = True) -> Outcome:
        return self._moved(self._cmd(m.home(self.address), "home", wait), wait)

    def reset(self, wait: bool = True) -> Outcome:
        return self._moved(self._cmd(m.pan_tilt_reset(self.address), "pan-tilt reset", wait), wait)

    def zoom(self, direction: str, speed: int | None = None) -> None:
        self._cmd(m.zoom(self.address, direction, speed), f"zoom {direction}")

    def zoom_to(self, position: int, wait: bool = True) -> Outcome:
        out = self._cmd(m.zoom_direct(self.address, position, self.zoom_max), f"zoom to {position}", wait)
        if wait and not out.completion_known:
            self._settle(self.zoom_position)
        return out

    def focus(self, action: str) -> None:
        self._cmd(m.focus(self.address, action), f"focus {action}")

    def store(self, n: int) -> None:
        self._cmd(m.preset(self.address, "set", n, self.preset_count), f"store preset {n}")

    def recall(self, n: int, wait: bool = True) -> Outcome:
        out = self._cmd(m.preset(self.address, "recall", n, self.preset_count), f"recall preset {n}", wait)
        return self._moved(out, wait)

    def cancel(self, socket: int) -> str:
        """Cancel the command running in VISCA socket 1 or 2: "cancelled", or "idle" when
        nothing was running there."""
        try:
            self._cmd(m.cancel(self.address, socket), f"cancel socket {socket}")
        except DeviceRejected as exc:
            if exc.code == 0x04:
                return "cancelled"
            if exc.code == 0x05:
                return "idle"
            raise
        return "cancelled"

    def freeze(self, on: bool) -> None:
        """CAM_Freeze on (one still picture on the output) or off (live again)."""
        self._cmd(m.freeze(self.address, on), "freeze on" if on else "freeze off")

    def preset_reset(self, n: int) -> None:
        self._cmd(m.preset(self.address, "reset", n, self.preset_count), f"reset preset {n}")

    # --- inquiries --------------------------------------------------------------------------

    def _ask(self, name: str):
        pkt, what, decode = self._inquiries[name]
        return decode(self.engine.inquiry(pkt, what))

    def power(self) -> str:
        return self._ask("power")

    def position(self) -> tuple[int, int]:
        return self._ask("position")

    def zoom_position(self) -> int:
        return self._ask("zoom")

    def focus_mode(self) -> str:
        return self._ask("focus")

    def version(self) -> dict:
        return self._ask("version")

    def freeze_mode(self) -> str | None:
        """``on`` (the picture is held still) or ``off``; None for a camera without CAM_Freeze.
        One that answers the inquiry with error 02 (syntax error: it does not know it) is
        not asked again until its link is opened again."""
        if self.has_freeze is False:
            return None
        try:
            mode = self._ask("freeze")
        except DeviceRejected as exc:
            if exc.code != SYNTAX_ERROR:
                raise
            self.has_freeze = False
            return None
        self.has_freeze = True
        return mode

    def state(self) -> dict:
        """Power, and position/zoom when on: what a panel shows."""
        out: dict[str, object] = {"power": self.power()}
        if out["power"] == "on":
            out["pan"], out["tilt"] = self.position()
            out["zoom"] = self.zoom_position()
        return out


__all__ = ["Camera", "open_camera", "parse_url", "check_settings", "DeviceError"]
