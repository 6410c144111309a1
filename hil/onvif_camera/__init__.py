"""An ONVIF Profile S PTZ camera simulator speaking the real SOAP 1.2 wire on 127.0.0.1.

::

    sim = OnvifCameraSimulator(boot_s=0.5, video=True).start()
    sim.url              # "onvif://admin:admin-pass@127.0.0.1:40123/onvif/device_service"
    sim.positions()      # (pan, tilt, zoom) in the generic spaces
    sim.counts["AbsoluteMove"], sim.refused["GetProfiles"]
    sim.unplug(); sim.replug()      # the network cable (the head keeps its state)
    sim.power_cycle()               # off and on: home position, boot time, presets kept
    sim.close()

Services on one HTTP server (``http.server`` in threads): Device (GetSystemDateAndTime,
GetServices, GetCapabilities, GetDeviceInformation), Media (GetProfiles, GetStreamUri,
GetSnapshotUri) and PTZ (GetNodes, GetConfigurations, GetConfigurationOptions, GetStatus,
AbsoluteMove, RelativeMove, ContinuousMove, Stop, GetPresets, SetPreset, GotoPreset,
RemovePreset), dispatched by the namespace and name of the body's element as cameras do.

Authentication: a WS-Security UsernameToken with PasswordDigest, dated within
``max_skew_s`` of the camera's own clock (``clock_offset_s`` off the real one), its nonce
never seen before; otherwise the fault env:Sender / ter:NotAuthorized (HTTP 400). The
operations of ONVIF's PRE_AUTH access class (GetSystemDateAndTime, GetServices,
GetCapabilities) need none.

Power-up: for ``boot_s`` after power-on every request is answered HTTP 503
(``boot_reply="503"``) or with a Receiver fault "Device is initializing"
(``boot_reply="fault"``). Faults, changeable while running: ``delay`` (seconds before each
answer), ``drop`` (fraction of requests whose connection is closed unanswered),
``garbage`` (fraction answered with junk: random bytes, a cut-off envelope, or no HTTP at
all), ``seed``. ``tls=(certificate file, key file)`` serves HTTPS (``onvif-https://``). ``xaddr_host`` is the host the camera writes in its service addresses (a
camera behind NAT reports one the client cannot use); ``get_services=False`` is an older
camera that only answers GetCapabilities.

Picture: with ``video=True`` a :class:`~vksroom.hil.video_stream.VideoStreamServer` shows
the courtroom of :mod:`vksroom.hil.scene` as the head points; GetStreamUri answers its
MJPEG address (the bench has no RTSP server; an MJPEG stream over HTTP is what a camera
whose encoder is JPEG serves) and GetSnapshotUri its ``/snapshot.jpg``.

Imports nothing from the rest of the project but the bench's picture: a simulator is a device.
"""
from __future__ import annotations

import collections
import random
import re
import socket
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from vksroom.hil.onvif_camera import wire
from vksroom.hil.onvif_camera.model import Options, PtzModel, Refusal, from_scene, invalid, scene_view
from vksroom.hil.onvif_camera.wire import Markup, PREFIXES, number, x

__all__ = ["OnvifCameraSimulator", "REAL_BOOT_S", "from_scene", "scene_view"]

# An IP PTZ camera's web services answer some 30-90 s after power-on (its pan/tilt
# calibration and OS boot); a minute is a fair guess, not a measurement: time yours.
REAL_BOOT_S = 60.0
PATHS = {"tds": "/onvif/device_service", "trt": "/onvif/media_service", "tptz": "/onvif/ptz_service"}
PRE_AUTH = {"GetSystemDateAndTime", "GetServices", "GetCapabilities", "GetServiceCapabilities"}
SPACES = "http://www.onvif.org/ver10/tptz"
GENERIC = {   # group: (URI, has Y)
    "AbsolutePanTiltPositionSpace": (f"{SPACES}/PanTiltSpaces/PositionGenericSpace", True),
    "AbsoluteZoomPositionSpace": (f"{SPACES}/ZoomSpaces/PositionGenericSpace", False),
    "RelativePanTiltTranslationSpace": (f"{SPACES}/PanTiltSpaces/TranslationGenericSpace", True),
    "RelativeZoomTranslationSpace": (f"{SPACES}/ZoomSpaces/TranslationGenericSpace", False),
    "ContinuousPanTiltVelocitySpace": (f"{SPACES}/PanTiltSpaces/VelocityGenericSpace", True),
    "ContinuousZoomVelocitySpace": (f"{SPACES}/ZoomSpaces/VelocityGenericSpace", False),
    "PanTiltSpeedSpace": (f"{SPACES}/PanTiltSpaces/GenericSpeedSpace", False),
    "ZoomSpeedSpace": (f"{SPACES}/ZoomSpaces/ZoomGenericSpeedSpace", False),
}
# token: (name, with PTZ); the first has none, as a fisheye or metadata profile
PROFILES = {"profile_overview": ("Overview (fixed)", False), "profile_main": ("Main stream", True),
            "profile_sub": ("Sub stream", True)}
PTZ_CONFIG, PTZ_NODE = "ptz_config_1", "ptz_node_1"
DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    m = DURATION.match(text.strip())
    if not m or not any(m.groups()):
        raise invalid("TimeoutNotSupported", f"Timeout {text[:40]!r} is not an xs:duration this device takes.")
    h, mi, s = (float(g or 0) for g in m.groups())
    return h * 3600 + mi * 60 + s


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass        # a client gone mid-answer, a cable pulled: a camera says nothing of it


class OnvifCameraSimulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, username: str = "admin",
                 password: str = "admin-pass", boot_s: float = 0.3, boot_reply: str = "503",
                 clock_offset_s: float = 0.0, max_skew_s: float = 5.0, delay: float = 0.0, drop: float = 0.0,
                 garbage: float = 0.0, seed: int | None = None, pan_speed: float = 1.0, tilt_speed: float = 1.0,
                 zoom_speed: float = 0.5, tilt_range: tuple = (-1.0, 1.0), max_presets: int = 64,
                 presets: dict | None = None, state_file: str | None = None, xaddr_host: str | None = None,
                 get_services: bool = True, video: bool = False, video_port: int = 0, size=(640, 360),
                 fps: float = 10.0, manufacturer: str = "VKS Bench", model: str = "PTZ-Sim 20x",
                 firmware: str = "2.4.1", tls: tuple[str, str] | None = None):
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the simulator serves on loopback only")
        if boot_reply not in ("503", "fault"):
            raise ValueError("boot_reply is '503' or 'fault'")
        for name, value in (("drop", drop), ("garbage", garbage)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a fraction 0..1, got {value}")
        self.host, self.port, self.username, self.password = host, int(port), username, password
        self.boot_s, self.boot_reply = float(boot_s), boot_reply
        self.clock_offset_s = float(clock_offset_s)
        self.delay, self.drop, self.garbage = float(delay), float(drop), float(garbage)
        self.xaddr_host = xaddr_host or host
        self.tls = None                   # (certificate file, key file): HTTPS
        if tls is not None:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(*tls)
        self.get_services = get_services
        self.info = {"Manufacturer": manufacturer, "Model": model, "FirmwareVersion": firmware,
                     "SerialNumber": "SIM-0001", "HardwareId": "sim-1"}
        self.auth = wire.Authenticator({username: password}, max_skew_s)
        self.model = PtzModel(Options(pan_speed=pan_speed, tilt_speed=tilt_speed, zoom_speed=zoom_speed,
                                      tilt_range=tuple(tilt_range), max_presets=max_presets, state_file=state_file))
        for token, (name, pos) in (presets or {}).items():
            self.model.presets.setdefault(str(token), {"name": name, "position": list(pos)})
        self.counts: collections.Counter = collections.Counter()    # executed, by operation
        self.refused: collections.Counter = collections.Counter()   # received, not executed
        self.wire = collections.Counter()                           # requests, dropped, garbage_sent
        self.rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.video_enabled, self.video_port, self.size, self.fps = video, int(video_port), tuple(size), fps
        self.video = None
        self._scene = None
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self._stop = threading.Event()
        self.boot_until = 0.0

    # -- for tests and the bench ---------------------------------------------------------------

    @property
    def scheme(self) -> str:
        return "onvif-https" if self.tls else "onvif"

    @property
    def address(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{PATHS['tds']}"

    @property
    def url(self) -> str:
        """The camera URL with the user and password in it."""
        return f"{self.scheme}://{self.username}:{self.password}@{self.host}:{self.port}{PATHS['tds']}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def booting(self) -> bool:
        return time.monotonic() < self.boot_until

    def finish_boot(self) -> None:
        """End the boot now (a test decides when the camera is up instead of racing a timer)."""
        self.boot_until = 0.0

    def positions(self) -> tuple[float, float, float]:
        return self.model.positions()

    def wait_still(self, timeout: float = 5.0) -> bool:
        return self.model.wait_still(timeout)

    def camera_now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset_s)

    def stream_url(self) -> str:
        return f"http://{self.host}:{self.video_port}/video.mjpg"

    def snapshot_url(self) -> str:
        return f"http://{self.host}:{self.video_port}/snapshot.jpg"

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> "OnvifCameraSimulator":
        """Power on: listen (on the same port as before), the head at home, booting."""
        if self.running:
            return self
        self.model.power_up()
        self.boot_until = time.monotonic() + self.boot_s
        self._listen()
        return self

    def _listen(self) -> None:
        self._stop.clear()
        self._httpd = _Server((self.host, self.port), self._handler_class())
        self.port = self._httpd.server_address[1]
        if self.tls is not None:
            self._httpd.socket = self.tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="onvif-sim-http", daemon=True)
        self._thread.start()
        if self.video_enabled and self.video is None:
            from vksroom.hil.scene import Courtroom
            from vksroom.hil.video_stream import VideoStreamServer

            self._scene = self._scene or Courtroom()
            self.video = VideoStreamServer(self._scene, view_fn=lambda: scene_view(*self.model.positions()),
                                           size=self.size, fps=self.fps, port=self.video_port).start()
            self.video_port = self.video.port

    def unplug(self) -> None:
        """The network cable out: nothing answers, open connections are cut; the head keeps
        its position and any move under way."""
        if not self.running:
            return
        self._stop.set()
        httpd, self._httpd = self._httpd, None
        httpd.shutdown()
        httpd.server_close()
        with self._conns_lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    def replug(self) -> None:
        """The cable back in: answers again at once (no boot)."""
        if not self.running:
            self._listen()

    def stop(self) -> None:
        """Power off: the network goes and the picture with it."""
        self.unplug()
        if self.video is not None:
            self.video.stop()
            self.video = None

    def power_cycle(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- faults --------------------------------------------------------------------------------

    def _chance(self, p: float) -> bool:
        if p <= 0:
            return False
        with self._rng_lock:
            return self.rng.random() < p

    def _junk(self, reply: bytes) -> tuple[str, bytes]:
        with self._rng_lock:
            kind = self.rng.choice(("bytes", "cut", "not-http"))
            junk = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 200)))
            cut = reply[: self.rng.randrange(1, max(2, len(reply) - 1))]
        return kind, {"bytes": junk, "cut": cut, "not-http": junk}[kind]

    # -- the services --------------------------------------------------------------------------

    def handle(self, data: bytes) -> tuple[int, bytes]:
        """One SOAP request: ``(HTTP status, reply)``."""
        try:
            header, op_el = wire.parse_request(data)
        except Refusal as r:
            return r.status, wire.fault(r)
        ns, _, op = op_el.tag[1:].partition("}")
        service = next((p for p, u in PREFIXES.items() if u == ns and p in PATHS), None)
        handler = getattr(self, f"_{service}_{op}", None) if service else None
        try:
            if self.booting():
                if self.boot_reply == "503":
                    raise Refusal(("env:Receiver", "ter:Action"), "The device is starting up.", 503)
                raise Refusal(("env:Receiver", "ter:Action"), "Device is initializing, try again later.")
            if op not in PRE_AUTH:
                self.auth.check(header, self.camera_now())
            if handler is None:
                raise Refusal(("env:Receiver", "ter:ActionNotSupported"), f"{op} is not supported by this device.")
            body = handler(op_el)
        except Refusal as r:
            self.refused[op] += 1
            return r.status, wire.fault(r)
        self.counts[op] += 1
        return 200, wire.answer(x(f"{service}:{op}Response", *body))

    # Device
    def _xaddr(self, service: str) -> str:
        return f"{'https' if self.tls else 'http'}://{self.xaddr_host}:{self.port}{PATHS[service]}"

    def _tds_GetSystemDateAndTime(self, req):
        now = self.camera_now()
        return [x("tds:SystemDateAndTime", x("tt:DateTimeType", "Manual"), x("tt:DaylightSavings", "false"),
                  x("tt:TimeZone", x("tt:TZ", "UTC0")), x("tt:UTCDateTime", wire.utc_fields(now)),
                  x("tt:LocalDateTime", wire.utc_fields(now)))]

    def _tds_GetServices(self, req):
        if not self.get_services:
            raise Refusal(("env:Receiver", "ter:ActionNotSupported"), "GetServices is not supported.")
        return [x("tds:Service", x("tds:Namespace", PREFIXES[s]), x("tds:XAddr", self._xaddr(s)),
                  x("tds:Version", x("tt:Major", "2"), x("tt:Minor", "40"))) for s in PATHS]

    def _tds_GetCapabilities(self, req):
        return [x("tds:Capabilities",
                  x("tt:Device", x("tt:XAddr", self._xaddr("tds"))),
                  x("tt:Media", x("tt:XAddr", self._xaddr("trt")),
                    x("tt:StreamingCapabilities", x("tt:RTPMulticast", "false"), x("tt:RTP_TCP", "true"),
                      x("tt:RTP_RTSP_TCP", "true"))),
                  x("tt:PTZ", x("tt:XAddr", self._xaddr("tptz"))))]

    def _tds_GetDeviceInformation(self, req):
        return [x(f"tds:{k}", v) for k, v in self.info.items()]

    # Media
    def _profile(self, req, need_ptz: bool = False) -> str:
        token = (req.findtext(wire.tag("trt", "ProfileToken")) or req.findtext(wire.tag("tptz", "ProfileToken"))
                 or "").strip()
        if token not in PROFILES:
            raise invalid("NoProfile", "The requested profile token ProfileToken does not exist.")
        if need_ptz and not PROFILES[token][1]:
            raise invalid("NoPTZProfile", "The requested profile token does not reference a PTZ configuration.")
        return token

    def _ptz_configuration(self, element: str = "tt:PTZConfiguration") -> Markup:
        d = self.model.o.default_speed
        pt, z = GENERIC["PanTiltSpeedSpace"][0], GENERIC["ZoomSpeedSpace"][0]
        return x(element, x("tt:Name", "PTZ"), x("tt:UseCount", "2"), x("tt:NodeToken", PTZ_NODE),
                 x("tt:DefaultAbsolutePantTiltPositionSpace", GENERIC["AbsolutePanTiltPositionSpace"][0]),
                 x("tt:DefaultAbsoluteZoomPositionSpace", GENERIC["AbsoluteZoomPositionSpace"][0]),
                 x("tt:DefaultRelativePanTiltTranslationSpace", GENERIC["RelativePanTiltTranslationSpace"][0]),
                 x("tt:DefaultRelativeZoomTranslationSpace", GENERIC["RelativeZoomTranslationSpace"][0]),
                 x("tt:DefaultContinuousPanTiltVelocitySpace", GENERIC["ContinuousPanTiltVelocitySpace"][0]),
                 x("tt:DefaultContinuousZoomVelocitySpace", GENERIC["ContinuousZoomVelocitySpace"][0]),
                 x("tt:DefaultPTZSpeed", x("tt:PanTilt", x=number(d), y=number(d), space=pt),
                   x("tt:Zoom", x=number(d), space=z)),
                 x("tt:DefaultPTZTimeout", f"PT{self.model.o.default_timeout_s:g}S"), token=PTZ_CONFIG)

    def _trt_GetProfiles(self, req):
        w, h = self.size
        out = []
        for token, (name, ptz) in PROFILES.items():
            out.append(x("trt:Profiles", x("tt:Name", name),
                         x("tt:VideoSourceConfiguration", x("tt:Name", "source"), x("tt:UseCount", "3"),
                           x("tt:SourceToken", "video_source_1"),
                           x("tt:Bounds", x=0, y=0, width=w, height=h), token="video_source_config_1"),
                         x("tt:VideoEncoderConfiguration", x("tt:Name", "jpeg"), x("tt:UseCount", "1"),
                           x("tt:Encoding", "JPEG"), x("tt:Resolution", x("tt:Width", str(w)), x("tt:Height", str(h))),
                           x("tt:Quality", "85"), token=f"encoder_{token}"),
                         self._ptz_configuration() if ptz else None, token=token, fixed="true"))
        return out

    def _media_uri(self, uri: str) -> list:
        return [x("trt:MediaUri", x("tt:Uri", uri), x("tt:InvalidAfterConnect", "false"),
                  x("tt:InvalidAfterReboot", "false"), x("tt:Timeout", "PT0S"))]

    def _trt_GetStreamUri(self, req):
        self._profile(req)
        protocol = req.findtext(f"{wire.tag('trt', 'StreamSetup')}/{wire.tag('tt', 'Transport')}/"
                                f"{wire.tag('tt', 'Protocol')}")
        if protocol is not None and protocol.strip() not in ("RTSP", "HTTP", "UDP", "TCP"):
            raise Refusal(("env:Sender", "ter:InvalidArgVal", "ter:InvalidStreamSetup"),
                          f"Transport {protocol.strip()[:20]!r} is not supported.")
        return self._media_uri(self.stream_url())

    def _trt_GetSnapshotUri(self, req):
        self._profile(req)
        return self._media_uri(self.snapshot_url())

    # PTZ
    def _spaces(self) -> list:
        lo, hi = self.model.tilt.lo, self.model.tilt.hi
        ranges = {"AbsolutePanTiltPositionSpace": ((-1, 1), (lo, hi)), "AbsoluteZoomPositionSpace": ((0, 1), None),
                  "PanTiltSpeedSpace": ((0, 1), None), "ZoomSpeedSpace": ((0, 1), None)}
        out = []
        for group, (uri, has_y) in GENERIC.items():
            xr, yr = ranges.get(group, ((-1, 1), (-1, 1) if has_y else None))
            out.append(x(f"tt:{group}", x("tt:URI", uri),
                         x("tt:XRange", x("tt:Min", number(xr[0])), x("tt:Max", number(xr[1]))),
                         x("tt:YRange", x("tt:Min", number(yr[0])), x("tt:Max", number(yr[1]))) if yr else None))
        return out

    def _tptz_GetNodes(self, req):
        return [x("tptz:PTZNode", x("tt:Name", "PTZ head"), x("tt:SupportedPTZSpaces", *self._spaces()),
                  x("tt:MaximumNumberOfPresets", str(self.model.o.max_presets)), x("tt:HomeSupported", "false"),
                  token=PTZ_NODE, FixedHomePosition="false")]

    def _tptz_GetConfigurations(self, req):
        return [self._ptz_configuration("tptz:PTZConfiguration")]

    def _tptz_GetConfigurationOptions(self, req):
        if (req.findtext(wire.tag("tptz", "ConfigurationToken")) or "").strip() != PTZ_CONFIG:
            raise invalid("NoConfig", "The requested configuration does not exist.")
        return [x("tptz:PTZConfigurationOptions", x("tt:Spaces", *self._spaces()),
                  x("tt:PTZTimeout", x("tt:Min", "PT1S"), x("tt:Max", "PT60S")))]

    def _tptz_GetStatus(self, req):
        self._profile(req, need_ptz=True)
        pan, tilt, zoom = self.model.positions()
        pt_move, z_move = self.model.move_status()
        now = self.camera_now().strftime("%Y-%m-%dT%H:%M:%SZ")
        return [x("tptz:PTZStatus",
                  x("tt:Position", x("tt:PanTilt", x=number(pan), y=number(tilt),
                                     space=GENERIC["AbsolutePanTiltPositionSpace"][0]),
                    x("tt:Zoom", x=number(zoom), space=GENERIC["AbsoluteZoomPositionSpace"][0])),
                  x("tt:MoveStatus", x("tt:PanTilt", pt_move), x("tt:Zoom", z_move)), x("tt:UtcTime", now))]

    def _vector(self, el, group_pt: str, group_z: str, pt_names=("x", "y")):
        """(pan, tilt) or None, zoom or None from a PTZVector/PTZSpeed; a foreign space is refused."""
        pt = el.find(wire.tag("tt", "PanTilt")) if el is not None else None
        z = el.find(wire.tag("tt", "Zoom")) if el is not None else None
        for part, group in ((pt, group_pt), (z, group_z)):
            if part is not None and part.get("space") not in (None, GENERIC[group][0]):
                raise invalid("SpaceNotSupported", "A space is referenced that is not supported by the PTZ node.")
        zoom = wire.floats(z, "x")
        return wire.floats(pt, *pt_names), zoom[0] if zoom else None

    def _speed(self, req):
        """(pan/tilt speed, zoom speed) of the request's Speed, None where not given (the
        pan/tilt speed is its x: the PTZ service lets a device take x as the speed)."""
        pt, z = self._vector(req.find(wire.tag("tptz", "Speed")), "PanTiltSpeedSpace", "ZoomSpeedSpace", ("x",))
        return (pt[0] if pt else None), z

    def _move(self, req, element: str, kind: str, timeout: float | None = None) -> list:
        """Absolute (Position), relative (Translation) or continuous (Velocity) moves."""
        self._profile(req, need_ptz=True)
        groups = {"absolute": ("AbsolutePanTiltPositionSpace", "AbsoluteZoomPositionSpace"),
                  "relative": ("RelativePanTiltTranslationSpace", "RelativeZoomTranslationSpace"),
                  "continuous": ("ContinuousPanTiltVelocitySpace", "ContinuousZoomVelocitySpace")}[kind]
        pt, zoom = self._vector(req.find(wire.tag("tptz", element)), *groups)
        pan, tilt = pt if pt else (None, None)
        if kind == "continuous":
            self.model.continuous(pan, tilt, zoom, timeout)
        else:
            getattr(self.model, kind)(pan, tilt, zoom, *self._speed(req))
        return []

    def _tptz_AbsoluteMove(self, req):
        return self._move(req, "Position", "absolute")

    def _tptz_RelativeMove(self, req):
        return self._move(req, "Translation", "relative")

    def _tptz_ContinuousMove(self, req):
        timeout = _duration(req.findtext(wire.tag("tptz", "Timeout")))
        if timeout is not None and not 1.0 <= timeout <= 60.0:
            raise invalid("TimeoutNotSupported", "The specified timeout argument is not within the supported range.")
        return self._move(req, "Velocity", "continuous", timeout)

    def _tptz_Stop(self, req):
        self._profile(req, need_ptz=True)
        flags = [(req.findtext(wire.tag("tptz", k)) or "true").strip().lower() in ("true", "1") for k in ("PanTilt", "Zoom")]
        self.model.stop(*flags)
        return []

    def _tptz_GetPresets(self, req):
        self._profile(req, need_ptz=True)
        out = []
        with self.model.lock:
            for token, p in sorted(self.model.presets.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
                pan, tilt, zoom = p["position"]
                out.append(x("tptz:Preset", x("tt:Name", p["name"]),
                             x("tt:PTZPosition", x("tt:PanTilt", x=number(pan), y=number(tilt),
                                                   space=GENERIC["AbsolutePanTiltPositionSpace"][0]),
                               x("tt:Zoom", x=number(zoom), space=GENERIC["AbsoluteZoomPositionSpace"][0])),
                             token=token))
        return out

    def _tptz_SetPreset(self, req):
        self._profile(req, need_ptz=True)
        name = req.findtext(wire.tag("tptz", "PresetName"))
        token = req.findtext(wire.tag("tptz", "PresetToken"))
        token = self.model.set_preset(name.strip() if name is not None else None,
                                      token.strip() if token is not None else None)
        return [x("tptz:PresetToken", token)]

    def _tptz_GotoPreset(self, req):
        self._profile(req, need_ptz=True)
        s_pt, s_z = self._speed(req)
        self.model.goto_preset((req.findtext(wire.tag("tptz", "PresetToken")) or "").strip(), s_pt, s_z)
        return []

    def _tptz_RemovePreset(self, req):
        self._profile(req, need_ptz=True)
        self.model.remove_preset((req.findtext(wire.tag("tptz", "PresetToken")) or "").strip())
        return []

    # -- HTTP ----------------------------------------------------------------------------------

    def _handler_class(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "onvif-sim/1.0"

            def log_message(self, fmt, *args):
                pass

            def setup(self):
                super().setup()
                # headers and body go out in two writes: without this, Nagle's algorithm
                # holds the body until the client's delayed ACK (40 ms a request)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with sim._conns_lock:
                    sim._conns.add(self.connection)

            def finish(self):
                try:
                    super().finish()
                finally:
                    with sim._conns_lock:
                        sim._conns.discard(self.connection)

            def _send(self, status: int, body: bytes, extra: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send(405, b"POST SOAP requests to the ONVIF services\n", {"Allow": "POST"})

            def do_POST(self):
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    return self._send(411, b"")
                if not 0 <= length <= 1 << 20:
                    return self._send(413, b"")
                data = self.rfile.read(length)
                if self.path.split("?")[0] not in PATHS.values():
                    return self._send(404, b"")
                sim.wire["requests"] += 1
                if sim._chance(sim.drop):
                    sim.wire["dropped"] += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if sim.delay > 0 and sim._stop.wait(sim.delay):
                    self.close_connection = True
                    return
                status, reply = sim.handle(data)
                if sim._chance(sim.garbage):
                    sim.wire["garbage_sent"] += 1
                    kind, junk = sim._junk(reply)
                    self.close_connection = True
                    if kind == "not-http":
                        self.wfile.write(junk)
                        return
                    reply = junk
                self._send(status, reply, {"Retry-After": "1"} if status == 503 else None)

        return Handler
