"""An ONVIF Profile S PTZ camera as a :class:`~vksroom.drivers.camera.PtzCamera`.

URL::

    onvif://USER:PASSWORD@HOST[:PORT][/PATH][?profile=TOKEN]        HTTP, port 80
    onvif-https://USER:PASSWORD@HOST[:PORT][/PATH][?profile=TOKEN]  HTTPS, port 443

``PATH`` is the device service (default ``/onvif/device_service``); ``profile`` the media
profile token (default: the first profile with a PTZ configuration). The user and the
password may come as settings instead (``username``, ``password``; a setting wins over the
URL, so a password need not be written in the URL); characters such as ``@`` or ``:`` in a
URL password are percent-encoded.

Opening: GetSystemDateAndTime (no authentication) gives the camera's clock, and every
UsernameToken is dated by it; GetServices (or, on older cameras, GetCapabilities) gives
the Media and PTZ service addresses, of which the path is used with the host and port of
the URL (cameras behind NAT or with a changed address report a wrong host); then
GetDeviceInformation, GetProfiles, GetNodes and GetConfigurationOptions for the spaces
and ranges. A request refused as not authorised is tried once more after reading the
clock again, when the camera's clock has moved (an NTP correction).

Units: the generic spaces are the neutral units, so values pass unchanged (pan/tilt
-1..1, zoom 0..1, speeds 0..1, translations -1..1); a value outside the range the camera
gives for a space is refused before sending (ConfigError).

Presets by number: preset ``n`` is the camera's preset named ``vks-<n>``, or failing that
the one whose token is ``<n>`` (many cameras number their tokens). Storing ``n`` overwrites
that preset and names it ``vks-<n>``; when there is none it creates one named ``vks-<n>``.
So presets stored through the room are found by name whatever tokens the camera hands out.

Errors: a SOAP fault is DeviceRejected with ``code`` the most precise fault code
(``ter:NoToken``, ``ter:NotAuthorized``...); HTTP 503, or a Receiver fault saying the
camera is starting, is DeviceNotReady; a connection failure TransportError; no answer in
time DeviceTimeout; a reply that is not a SOAP answer ProtocolError.
"""
from __future__ import annotations

import logging
import math
import os
import ssl
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

from vksroom.drivers.camera import Position, PtzCamera, check_unit, opened
from vksroom.drivers.errors import (ConfigError, DeviceNotReady, DeviceRejected, DeviceTimeout, ProtocolError,
                                    TransportClosed, TransportError)
from vksroom.drivers.onvif import soap
from vksroom.drivers.onvif.link import HttpLink
from vksroom.drivers.onvif.soap import GENERIC, NS, Xml, el

log = logging.getLogger(__name__)

SCHEMES = {"onvif": ("http", 80), "onvif-https": ("https", 443)}
DEFAULT_PATH = "/onvif/device_service"
PRESET_NAME = "vks-{}"
AUTH_FAULTS = ("NotAuthorized", "FailedAuthentication", "InvalidSecurityToken", "InvalidSecurity")
UNSUPPORTED = ("ter:ActionNotSupported", "ter:OptionalActionNotSupported")

# name: (lowest, highest, default, meaning)
SECONDS = {
    "timeout_s": (0.05, 60.0, 5.0, "how long one request may wait for the camera's answer"),
    "move_timeout_s": (0.5, 300.0, 30.0, "how long a move with wait may take until the camera is still"),
    "poll_s": (0.01, 2.0, 0.1, "how often a waiting move asks GetStatus"),
    "start_grace_s": (0.0, 5.0, 0.3, "how long after a move an IDLE status is not yet taken as arrival"),
}
CHOICES = {"video": ("stream", "snapshot"), "stream_transport": ("RTSP", "HTTP", "UDP")}
FLAGS = {"tls_verify": True, "video_credentials": True}
TEXTS = ("username", "password", "profile", "ca_file")
ARRIVED = 0.01      # a move with a known target has arrived within this much of it


def parse_url(url: str) -> dict:
    """``{"scheme", "http", "host", "port", "path", "username", "password", "profile"}``."""
    if not isinstance(url, str):
        raise ConfigError(f"camera URL must be text, got {url!r}")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ConfigError(f"{_safe(url)!r}: unknown scheme {parts.scheme or '(none)'!r} "
                          f"(use {', '.join(s + '://' for s in SCHEMES)})")
    if not parts.hostname:
        raise ConfigError(f"{_safe(url)!r} names no host")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{_safe(url)!r}: the port is not a number from 1 to 65535") from None
    http, default_port = SCHEMES[parts.scheme]
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    profile = query.pop("profile", None)
    if query:
        raise ConfigError(f"{_safe(url)!r}: unknown parameter(s) {', '.join(sorted(query))} (known: profile)")
    if profile is not None and not profile:
        raise ConfigError(f"{_safe(url)!r}: profile= names no profile token")
    return {"scheme": parts.scheme, "http": http, "host": parts.hostname, "port": port or default_port,
            "path": parts.path or DEFAULT_PATH,
            "username": urllib.parse.unquote(parts.username) if parts.username else None,
            "password": urllib.parse.unquote(parts.password) if parts.password is not None else None,
            "profile": profile}


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)
        return parts._replace(netloc=f"{parts.username}:***@{netloc[-1]}").geturl()
    except ValueError:
        return "(unreadable URL)"


def check_settings(url: str, settings: dict) -> None:
    """Refuse a bad URL or setting with :class:`ConfigError`, before anything is sent."""
    parse_url(url)
    known = set(SECONDS) | set(CHOICES) | set(FLAGS) | set(TEXTS)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(f"unknown ONVIF camera setting(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    for key, (lo, hi, _default, meaning) in SECONDS.items():
        value = settings.get(key, lo)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not lo <= value <= hi:
            raise ConfigError(f"camera {_safe(url)}: setting {key} must be a number of seconds from {lo:g} "
                              f"to {hi:g} ({meaning}), got {value!r}")
    for key, allowed in CHOICES.items():
        if key in settings and settings[key] not in allowed:
            raise ConfigError(f"setting {key} must be one of {', '.join(allowed)}, got {settings[key]!r}")
    for key in FLAGS:
        if key in settings and not isinstance(settings[key], bool):
            raise ConfigError(f"setting {key} must be true or false, got {settings[key]!r}")
    for key in TEXTS:
        if key in settings and (not isinstance(settings[key], str) or not settings[key]):
            raise ConfigError(f"setting {key} must be non-empty text")
    if "ca_file" in settings and not os.path.isfile(settings["ca_file"]):
        raise ConfigError(f"setting ca_file: no such file {settings['ca_file']!r}")


def open_ptz(url: str, **settings) -> "OnvifCamera":
    """Open the ONVIF camera at ``url`` (the entry :data:`~vksroom.drivers.camera.PTZ_SCHEMES` names)."""
    return opened(OnvifCamera(url, **settings))      # the settings are checked before anything is sent


class OnvifCamera(PtzCamera):
    protocol = "onvif"
    has_standby = False

    def __init__(self, url: str, **settings):
        check_settings(url, settings)
        self.url = url
        self.where = w = parse_url(url)
        self.username = settings.get("username", w["username"])
        self.password = settings.get("password", w["password"]) or ""
        self.profile_wanted = settings.get("profile", w["profile"])
        self.t = {k: float(settings.get(k, default)) for k, (_lo, _hi, default, _m) in SECONDS.items()}
        self.video_kind = settings.get("video", "stream")
        self.stream_transport = settings.get("stream_transport", "RTSP")
        self.video_credentials = settings.get("video_credentials", True)
        tls = None
        if w["http"] == "https":
            tls = ssl.create_default_context(cafile=settings.get("ca_file"))
            if not settings.get("tls_verify", True):   # a camera's self-signed certificate, knowingly
                tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
        self.link = HttpLink(w["http"], w["host"], w["port"], self.t["timeout_s"], tls)
        self.clock_offset = 0.0           # seconds the camera's clock is ahead of ours
        self.paths = {"tds": w["path"]}   # service -> HTTP path
        self.device_info: dict = {}
        self.profile: soap.Profile | None = None
        self.spaces: dict[str, soap.Space] = {}
        self.preset_count = 0
        self._presets: list[soap.Preset] | None = None
        self._uris: dict[str, str] = {}
        self._state_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._closing = threading.Event()
        self.counts = {"requests": 0, "clock_reads": 0, "auth_retries": 0}

    # -- life cycle ---------------------------------------------------------------------------

    def describe(self) -> str:
        w = self.where
        who = f" as {self.username}" if self.username else ""
        profile = f", profile {self.profile.token}" if self.profile else ""
        return f"ONVIF camera {w['http']}://{w['host']}:{w['port']}{w['path']}{who}{profile}"

    def open(self) -> "OnvifCamera":
        with self._open_lock:
            self._closing.clear()
            self.link.reopen()
            self.profile = None
            self.paths = {"tds": self.where["path"]}
            self._sync_clock()
            self._discover()
            self.device_info = soap.read_device_info(self._call("tds", "GetDeviceInformation"))
            self.profile = self._choose_profile()
            self._read_spaces()
            with self._state_lock:
                self._presets, self._uris = None, {}
        return self

    def close(self) -> None:
        self._closing.set()
        self.link.close()

    # -- requests -----------------------------------------------------------------------------

    def _call(self, service: str, operation: str, body: Xml | None = None, auth: bool = True,
              idempotent: bool = True):
        """One request; the ``<operation>Response`` element."""
        try:
            return self._request(service, operation, body, auth, idempotent)
        except DeviceRejected as exc:
            if not (auth and self.username and str(exc.code).rpartition(":")[2] in AUTH_FAULTS):
                raise
            before = self.clock_offset
            self._sync_clock()
            if abs(self.clock_offset - before) < 1.0:
                raise             # the clock was right: the credentials are wrong
            log.info("%s: camera clock moved by %+.1f s; request sent again", self.describe(),
                     self.clock_offset - before)
            self.counts["auth_retries"] += 1
            return self._request(service, operation, body, auth, idempotent)

    def _request(self, service: str, operation: str, body: Xml | None, auth: bool, idempotent: bool):
        path = self.paths.get(service)
        if path is None:
            raise DeviceRejected(f"{self.describe()}: the camera offers no {service} service", code="no-service")
        def data() -> bytes:   # made anew for each attempt: a fresh nonce and time
            header = None
            if auth and self.username:
                now = datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset)
                header = soap.security_header(self.username, self.password, now, os.urandom(16))
            return soap.envelope(body if body is not None else el(f"{service}:{operation}"), header)

        self.counts["requests"] += 1
        status, reason, reply = self.link.post(path, soap.action(service, operation), data, idempotent)
        what = f"{operation} ({self.link.describe()}{path})"
        if status == 503:
            raise DeviceNotReady(f"{what}: the camera is not ready yet (HTTP 503 {reason})".rstrip(), code=503)
        if 200 <= status < 300:
            return soap.read_reply(reply, service, operation)
        fault = soap.reply_fault(reply)
        if fault is not None:
            raise fault.error(what)
        if status == 401:
            raise DeviceRejected(f"{what}: HTTP 401, the camera refused the credentials (it may want HTTP "
                                 f"digest authentication instead of WS-Security)", code="ter:NotAuthorized")
        raise TransportError(f"{what}: HTTP {status} {reason}".rstrip())

    def _sync_clock(self) -> None:
        sent = time.time()
        resp = self._call("tds", "GetSystemDateAndTime", auth=False)
        received = time.time()
        self.counts["clock_reads"] += 1
        camera_utc = soap.read_clock(resp)
        if camera_utc is None:
            log.warning("%s: the camera does not say its UTC time; its tokens are dated by our clock", self.describe())
            self.clock_offset = 0.0
            return
        self.clock_offset = soap.clock_offset(camera_utc, sent, received)
        if abs(self.clock_offset) > 5:
            log.info("%s: the camera's clock is %+.1f s off ours; its tokens are dated by its clock",
                     self.describe(), self.clock_offset)

    def _discover(self) -> None:
        xaddrs: dict[str, str] = {}
        try:
            xaddrs = soap.read_services(self._call(
                "tds", "GetServices", el("tds:GetServices", el("tds:IncludeCapability", "false"))))
        except DeviceNotReady:
            raise
        except (DeviceRejected, ProtocolError) as exc:
            log.info("%s: GetServices failed (%s); asking GetCapabilities", self.describe(), exc)
        if NS["tptz"] not in xaddrs or NS["trt"] not in xaddrs:
            xaddrs.update(soap.read_capabilities(self._call(
                "tds", "GetCapabilities", el("tds:GetCapabilities", el("tds:Category", "All")))))
        for service in ("trt", "tptz"):
            if NS[service] in xaddrs:
                parts = urllib.parse.urlsplit(xaddrs[NS[service]])
                self.paths[service] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if "tptz" not in self.paths:
            raise DeviceRejected(f"{self.describe()}: the camera offers no PTZ service", code="no-ptz-service")
        if "trt" not in self.paths:
            raise DeviceRejected(f"{self.describe()}: the camera offers no media service", code="no-media-service")

    def _choose_profile(self) -> soap.Profile:
        profiles = soap.read_profiles(self._call("trt", "GetProfiles"))
        if self.profile_wanted:
            for p in profiles:
                if p.token == self.profile_wanted:
                    if not p.ptz_config:
                        raise DeviceRejected(f"{self.describe()}: profile {p.token!r} has no PTZ configuration",
                                             code="ter:NoPTZProfile")
                    return p
            raise DeviceRejected(f"{self.describe()}: no media profile {self.profile_wanted!r} "
                                 f"(the camera has {', '.join(p.token for p in profiles) or 'none'})",
                                 code="ter:NoProfile")
        for p in profiles:
            if p.ptz_config:
                return p
        raise DeviceRejected(f"{self.describe()}: no media profile has a PTZ configuration", code="ter:NoPTZProfile")

    def _read_spaces(self) -> None:
        profile = self._profile()
        nodes = soap.read_nodes(self._call("tptz", "GetNodes"))
        node = next((n for n in nodes if n.token == profile.node), nodes[0] if nodes else None)
        if node is None:
            raise DeviceRejected(f"{self.describe()}: the camera has no PTZ node", code="no-ptz-node")
        spaces = node.spaces
        try:
            resp = self._call("tptz", "GetConfigurationOptions",
                              el("tptz:GetConfigurationOptions", el("tptz:ConfigurationToken", profile.ptz_config)))
            options = resp.find("tptz:PTZConfigurationOptions/tt:Spaces", NS)
            if options is not None:       # the options may narrow the node's ranges
                spaces = {**spaces, **soap.read_spaces(options, "GetConfigurationOptions")}
        except DeviceRejected as exc:
            if isinstance(exc, DeviceNotReady) or exc.code not in UNSUPPORTED:
                raise
        self.spaces = {group: sp for group, uri in GENERIC.items()
                       for sp in spaces.get(group, []) if sp.uri == uri}
        self.preset_count = node.max_presets

    # -- state --------------------------------------------------------------------------------

    def _opened(self) -> None:
        if self._closing.is_set():
            raise TransportClosed(f"{self.describe()}: closed")
        self._profile()

    def _profile(self) -> soap.Profile:
        if self.profile is None:
            raise TransportClosed(f"{self.describe()}: not open (open() has not succeeded)")
        return self.profile

    def _token(self) -> Xml:
        return el("tptz:ProfileToken", self._profile().token)

    def status(self) -> soap.Status:
        self._opened()
        return soap.read_status(self._call("tptz", "GetStatus", el("tptz:GetStatus", self._token())))

    def power(self) -> str:
        """``on`` whenever the camera answers (ONVIF has no standby); DeviceNotReady while it starts."""
        self.status()
        return "on"

    def power_on(self) -> None:
        self.power()

    def standby(self) -> None:
        raise DeviceRejected(f"{self.describe()}: ONVIF cameras have no standby", code="no-standby")

    def position(self) -> Position:
        st = self.status()
        if st.pan is None or st.tilt is None:
            raise ProtocolError(f"{self.describe()}: GetStatus reports no pan/tilt position")
        return Position(st.pan, st.tilt, st.zoom if st.zoom is not None else 0.0)

    def info(self) -> dict:
        d = self.device_info
        return {"model": f"{d.get('Manufacturer', '')} {d.get('Model', '')}".strip(),
                "firmware": d.get("FirmwareVersion", ""), "serial": d.get("SerialNumber", "")}

    # -- moving -------------------------------------------------------------------------------

    def _space(self, group: str, what: str) -> soap.Space:
        sp = self.spaces.get(group)
        if sp is None:
            raise DeviceRejected(f"{self.describe()}: the camera offers no generic {group} ({what})",
                                 code="ter:SpaceNotSupported")
        return sp

    def _within(self, name: str, value: float, rng: soap.Range | None) -> float:
        if rng is not None and value not in rng:
            raise ConfigError(f"{name} {value:g} is outside this camera's range {rng.lo:g}..{rng.hi:g}")
        return value

    def _speed(self, speed, zoom: bool) -> Xml:
        speed = check_unit("speed", speed, 0.0, 1.0)
        if speed <= 0:
            raise ConfigError("speed must be more than 0")
        pt = self.spaces.get("PanTiltSpeedSpace")
        z = self.spaces.get("ZoomSpeedSpace") if zoom else None
        return el("tptz:Speed", soap.vector(
            min(speed, pt.x.hi) if pt else speed, min(speed, pt.x.hi) if pt else speed,
            (min(speed, z.x.hi) if z else speed) if zoom else None,
            pt.uri if pt else None, z.uri if z else None))

    def move_to(self, pan: float, tilt: float, zoom: float | None = None, speed: float = 1.0,
                wait: bool = True) -> None:
        self._opened()
        sp = self._space("AbsolutePanTiltPositionSpace", "absolute moves")
        pan = self._within("pan", check_unit("pan", pan), sp.x)
        tilt = self._within("tilt", check_unit("tilt", tilt), sp.y)
        zsp = None
        if zoom is not None:
            zsp = self._space("AbsoluteZoomPositionSpace", "absolute zoom")
            zoom = self._within("zoom", check_unit("zoom", zoom, 0.0, 1.0), zsp.x)
        body = el("tptz:AbsoluteMove", self._token(),
                  el("tptz:Position", soap.vector(pan, tilt, zoom, sp.uri, zsp.uri if zsp else None)),
                  self._speed(speed, zoom is not None))
        self._call("tptz", "AbsoluteMove", body)
        if wait:
            self._wait_still("move", (pan, tilt, zoom))

    def move_by(self, pan: float, tilt: float, speed: float = 0.5, wait: bool = True) -> None:
        self._opened()
        sp = self._space("RelativePanTiltTranslationSpace", "relative moves")
        pan = self._within("pan translation", check_unit("pan", pan), sp.x)
        tilt = self._within("tilt translation", check_unit("tilt", tilt), sp.y)
        body = el("tptz:RelativeMove", self._token(),
                  el("tptz:Translation", soap.vector(pan, tilt, None, sp.uri, None)), self._speed(speed, False))
        self._call("tptz", "RelativeMove", body, idempotent=False)    # twice would move twice as far
        if wait:
            self._wait_still("relative move", None)

    def zoom_to(self, zoom: float, wait: bool = True) -> None:
        self._opened()
        zsp = self._space("AbsoluteZoomPositionSpace", "absolute zoom")
        zoom = self._within("zoom", check_unit("zoom", zoom, 0.0, 1.0), zsp.x)
        body = el("tptz:AbsoluteMove", self._token(),
                  el("tptz:Position", soap.vector(None, None, zoom, None, zsp.uri)))
        self._call("tptz", "AbsoluteMove", body)
        if wait:
            self._wait_still("zoom", (None, None, zoom))

    def continuous_move(self, pan: float, tilt: float, zoom: float = 0.0, timeout_s: float | None = None) -> None:
        """Move at a velocity (-1..1 per axis: direction and fraction of the top speed) until
        :meth:`stop`, a velocity of 0, or ``timeout_s`` (the camera's default when None)."""
        self._opened()
        pan, tilt = check_unit("pan velocity", pan), check_unit("tilt velocity", tilt)
        zoom = check_unit("zoom velocity", zoom)
        pt = self._space("ContinuousPanTiltVelocitySpace", "continuous moves")
        z = self.spaces.get("ContinuousZoomVelocitySpace")
        timeout = None
        if timeout_s is not None:
            timeout = el("tptz:Timeout", f"PT{check_unit('timeout_s', timeout_s, 0.1, 3600.0):.1f}S")
        body = el("tptz:ContinuousMove", self._token(),
                  el("tptz:Velocity", soap.vector(pan, tilt, zoom if z else None, pt.uri, z.uri if z else None)),
                  timeout)
        self._call("tptz", "ContinuousMove", body)

    def stop(self) -> None:
        self._opened()
        self._call("tptz", "Stop", el("tptz:Stop", self._token(), el("tptz:PanTilt", "true"),
                                      el("tptz:Zoom", "true")))

    def _wait_still(self, what: str, target: tuple | None) -> None:
        """Poll GetStatus until the camera is IDLE (having been seen MOVING, or being where it
        was sent, or after ``start_grace_s``: a camera may still say IDLE just after the order).
        A camera that reports no MoveStatus is still when two positions in a row agree."""
        started = time.monotonic()
        deadline = started + self.t["move_timeout_s"]
        seen_moving, last = False, None
        while True:
            st = self.status()
            elapsed = time.monotonic() - started
            here = (st.pan, st.tilt, st.zoom)
            if st.moving:
                seen_moving = True
            elif st.pan_tilt_move is None and st.zoom_move is None:
                if last == here and elapsed >= self.t["start_grace_s"]:
                    return
            elif seen_moving or elapsed >= self.t["start_grace_s"] or _arrived(here, target):
                return
            last = here
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"{self.describe()}: {what} not ended within {self.t['move_timeout_s']:g} s "
                                    f"(pan {st.pan}, tilt {st.tilt}, zoom {st.zoom}, "
                                    f"status {st.pan_tilt_move}/{st.zoom_move})")
            if self._closing.wait(self.t["poll_s"]):
                raise TransportClosed(f"{self.describe()}: closed while waiting for the {what}")

    # -- presets ------------------------------------------------------------------------------

    def presets(self, refresh: bool = True) -> list[soap.Preset]:
        """The camera's presets (GetPresets), all of them, whoever stored them."""
        self._opened()
        with self._state_lock:
            if not refresh and self._presets is not None:
                return self._presets
        found = soap.read_presets(self._call("tptz", "GetPresets", el("tptz:GetPresets", self._token())))
        with self._state_lock:
            self._presets = found
        return found

    def _number(self, preset) -> int:
        top = self.preset_count or 254
        if isinstance(preset, bool) or not isinstance(preset, int) or not 1 <= preset <= top:
            raise ConfigError(f"preset must be a whole number from 1 to {top}, got {preset!r}")
        return preset

    @staticmethod
    def _find(presets: list[soap.Preset], n: int) -> soap.Preset | None:
        named = [p for p in presets if p.name == PRESET_NAME.format(n)]
        return named[0] if named else next((p for p in presets if p.token == str(n)), None)

    def recall(self, preset: int, wait: bool = True) -> None:
        n = self._number(preset)
        found = self._find(self.presets(refresh=False), n) or self._find(self.presets(), n)
        if found is None:
            raise DeviceRejected(f"{self.describe()}: no preset {n} (named {PRESET_NAME.format(n)!r}) on the camera",
                                 code="ter:NoToken")
        try:
            self._call("tptz", "GotoPreset", el("tptz:GotoPreset", self._token(), el("tptz:PresetToken", found.token)))
        except DeviceRejected as exc:
            if exc.code == "ter:NoToken":     # removed on the camera since we read its list
                with self._state_lock:
                    self._presets = None
            raise
        if wait:
            self._wait_still(f"recall of preset {n}", found.position)

    def store(self, preset: int) -> None:
        n = self._number(preset)
        existing = self._find(self.presets(), n)
        body = el("tptz:SetPreset", self._token(), el("tptz:PresetName", PRESET_NAME.format(n)),
                  el("tptz:PresetToken", existing.token) if existing else None)
        # overwriting a token is harmless to repeat; creating one twice would make two
        resp = self._call("tptz", "SetPreset", body, idempotent=existing is not None)
        soap.text(resp, "tptz:PresetToken", "SetPreset")
        with self._state_lock:
            self._presets = None

    # -- pictures -----------------------------------------------------------------------------

    def stream_uri(self) -> str:
        """GetStreamUri: the address of the profile's live stream, as the camera says it."""
        return self._uri("GetStreamUri", el(
            "trt:GetStreamUri",
            el("trt:StreamSetup", el("tt:Stream", "RTP-Unicast"),
               el("tt:Transport", el("tt:Protocol", self.stream_transport))),
            el("trt:ProfileToken", self.profile.token if self.profile else "")))

    def snapshot_uri(self) -> str:
        """GetSnapshotUri: the address of one JPEG picture of the profile."""
        return self._uri("GetSnapshotUri", el("trt:GetSnapshotUri",
                                              el("trt:ProfileToken", self.profile.token if self.profile else "")))

    def _uri(self, operation: str, body: Xml) -> str:
        self._opened()
        with self._state_lock:
            if operation in self._uris:
                return self._uris[operation]
        uri = soap.read_uri(self._call("trt", operation, body), operation)
        with self._state_lock:
            self._uris[operation] = uri
        return uri

    def video_url(self) -> str | None:
        """The stream (setting ``video = "stream"``, the default) or snapshot address the camera
        reports, with this camera's user and password in it (``video_credentials``) so that the
        picture reader is let in; None when the camera does not offer it."""
        try:
            uri = self.stream_uri() if self.video_kind == "stream" else self.snapshot_uri()
        except DeviceRejected as exc:
            if isinstance(exc, DeviceNotReady) or exc.code not in UNSUPPORTED:
                raise
            return None
        if not (self.video_credentials and self.username):
            return uri
        parts = urllib.parse.urlsplit(uri)
        if parts.username:
            return uri
        cred = urllib.parse.quote(self.username, safe="") + ":" + urllib.parse.quote(self.password, safe="")
        return parts._replace(netloc=f"{cred}@{parts.netloc}").geturl()


def _arrived(here: tuple, target: tuple | None) -> bool:
    if target is None:
        return False
    return all(t is None or (h is not None and abs(h - t) <= ARRIVED) for h, t in zip(here, target))

