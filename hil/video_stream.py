"""The simulated camera's video: the synthetic courtroom as an MJPEG stream over HTTP.

``GET /video.mjpg`` is ``multipart/x-mixed-replace`` JPEG (what IP cameras serve and what
``cv2.VideoCapture("http://127.0.0.1:PORT/video.mjpg")`` reads through FFmpeg);
``GET /snapshot.jpg`` one frame; ``GET /status`` JSON; ``GET /fault?name=blur&level=2``
injects a fault (``name=none`` clears it). Faults: those of :mod:`vksroom.hil.faults`
plus ``stall`` (the stream stops sending: "no signal") and ``blocky`` (a far-end decoder
short of bits: the picture in 8x8 blocks).

The view follows ``view_fn() -> (pan, tilt, zoom)`` in VISCA units, so the VISCA camera
simulator can drive it::

    server = VideoStreamServer(Courtroom(), view_fn=lambda: (cam.pan, cam.tilt, cam.zoom),
                               frozen_fn=lambda: cam.frozen).start()

``frozen_fn() -> bool``: while it says True the camera's picture freeze is on and the stream
keeps sending the picture it held (as a real camera in freeze does), whatever the view.

Run alone: ``python -m vksroom.hil.video_stream --port 8081 [--fault blur]``.
"""
from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import cv2
import numpy as np

from vksroom.hil import faults as faultlib
from vksroom.hil.scene import OVERVIEW, PAN_UNITS_PER_DEG, Courtroom
from vksroom.hil.standalone import wait_for_stop

log = logging.getLogger(__name__)
STREAM_FAULTS = faultlib.FAULTS + ("stall", "blocky")
BLOCKY_QUALITY = {1: 12, 2: 6, 3: 3}          # "blocky": a decoder short of bits (JPEG quality)
WRONG_VIEW_DEG = {1: 4.0, 2: 8.0, 3: 15.0}     # how far "wrong_view" turns the camera


class VideoStreamServer:
    def __init__(self, scene: Courtroom | None = None, view_fn=None, size=(640, 360), fps: float = 10.0,
                 host: str = "127.0.0.1", port: int = 0, quality: int = 85, sensor_noise: float = 1.2,
                 seed: int = 0, loop_frames: int = 0, frozen_fn=None):
        if host not in ("127.0.0.1", "localhost"):
            raise ValueError("the simulator serves on loopback only")
        self.scene = scene or Courtroom()
        self._view = OVERVIEW
        self.view_fn = view_fn or (lambda: self._view)
        self.frozen_fn = frozen_fn or (lambda: False)
        self.size, self.fps, self.quality = tuple(size), float(fps), int(quality)
        self.fault, self.level = None, 2
        self.frames_made = 0
        self.viewers = 0                 # clients reading the stream now
        self.streams_served = 0          # connections to the stream, all told
        self._rng = np.random.default_rng(seed)
        w, h = self.size
        self._noise = [np.clip(self._rng.normal(0, sensor_noise, (h, w, 3)), -127, 127).astype(np.int16)
                       for _ in range(4)] if sensor_noise > 0 else None
        self._jpeg: bytes | None = None
        # loop_frames > 0: render that many frames once and replay them (a recording),
        # so that benchmarks measure the receiver, not the renderer. Faults do not apply.
        self._loop = [self._encode(self.render(k / self.fps)) for k in range(loop_frames)]
        self._seq = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    # -- control
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def set_view(self, pan: float, tilt: float, zoom: float) -> None:
        """Aim the camera (used when no ``view_fn`` drives it)."""
        self._view = (pan, tilt, zoom)

    def set_fault(self, name: str | None, level: int = 2) -> None:
        if name in (None, "", "none"):
            name = None
        elif name not in STREAM_FAULTS:
            raise ValueError(f"unknown fault {name!r} (known: {', '.join(STREAM_FAULTS)})")
        with self._cond:
            self.fault, self.level = name, int(min(max(level, 1), 3))
            self._cond.notify_all()

    def start(self) -> "VideoStreamServer":
        self._produce_one()              # a first frame is ready before anyone connects
        for target, name in ((self._producer, "producer"), (self._httpd.serve_forever, "http")):
            t = threading.Thread(target=target, name=f"video-stream-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        for t in self._threads:
            t.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- frames
    def render(self, t: float | None = None) -> np.ndarray:
        """The frame the camera shows now (fault applied), as BGR."""
        t = time.monotonic() - self._t0 if t is None else t
        pan, tilt, zoom = self.view_fn()
        fault, level = self.fault, self.level
        if fault == "wrong_view":
            pan += WRONG_VIEW_DEG[level] * PAN_UNITS_PER_DEG
        frame = self.scene.view(pan, tilt, zoom, self.size, t)
        if fault in faultlib.OPTICAL:
            frame = faultlib.apply(frame, fault, level, self._rng)
        if self._noise is not None:
            n = self._noise[self.frames_made % len(self._noise)]
            frame = np.clip(frame.astype(np.int16) + n, 0, 255).astype(np.uint8)
        if fault in ("noise", "black", "blue"):
            frame = faultlib.apply(frame, fault, level, self._rng)
        if fault == "blocky":
            frame = faultlib.jpeg(frame, BLOCKY_QUALITY[level])
        return frame

    def _encode(self, frame) -> bytes:
        return cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])[1].tobytes()

    def _produce_one(self) -> None:
        fault = self.fault
        if fault == "stall":
            return
        if self._loop:
            data = self._loop[self.frames_made % len(self._loop)]
        elif (fault == "frozen" or self.frozen_fn()) and self._jpeg is not None:
            data = self._jpeg                    # the same picture again and again
        else:
            data = self._encode(self.render())
        with self._cond:
            self._jpeg = data
            self._seq += 1
            self.frames_made += 1
            self._cond.notify_all()

    def _producer(self) -> None:
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self._produce_one()
            except Exception:                    # a simulator bug must not kill the stream silently
                log.exception("rendering a frame failed")
            next_at += period
            if self._stop.wait(max(0.0, next_at - time.monotonic())):
                break
            next_at = max(next_at, time.monotonic() - period)

    def _next_jpeg(self, after_seq: int, timeout: float = 1.0):
        with self._cond:
            self._cond.wait_for(lambda: self._seq > after_seq or self._stop.is_set(), timeout)
            return self._seq, self._jpeg

    def wait_viewers(self, predicate, timeout: float) -> bool:
        """Wait until ``predicate(viewers)`` holds (a client noticed gone at its next frame)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.viewers), timeout)

    def _viewer(self, delta: int) -> None:
        with self._cond:
            self.viewers += delta
            self.streams_served += max(delta, 0)
            self._cond.notify_all()

    def status(self) -> dict:
        pan, tilt, zoom = self.view_fn()
        return {"view": {"pan": pan, "tilt": tilt, "zoom": zoom}, "fault": self.fault, "level": self.level,
                "frames": self.frames_made, "size": list(self.size), "fps": self.fps, "viewers": self.viewers}

    # -- HTTP
    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, fmt, *args):
                log.debug("video stream: " + fmt, *args)

            def _reply(self, code: int, body: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urlparse(self.path)
                try:
                    if url.path == "/video.mjpg":
                        return self._stream()
                    if url.path == "/snapshot.jpg":
                        return self._reply(200, server._jpeg or b"", "image/jpeg")
                    if url.path == "/status":
                        return self._reply(200, json.dumps(server.status()).encode(), "application/json")
                    if url.path == "/fault":
                        q = parse_qs(url.query)
                        try:
                            server.set_fault(q.get("name", ["none"])[0], int(q.get("level", ["2"])[0]))
                        except ValueError as exc:
                            return self._reply(400, f"{exc}\n".encode(), "text/plain")
                        return self._reply(200, json.dumps(server.status()).encode(), "application/json")
                    self._reply(404, b"not found\n", "text/plain")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self):
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                seq = 0
                server._viewer(+1)
                try:
                    while not server._stop.is_set():
                        new_seq, data = server._next_jpeg(seq)
                        if new_seq == seq or data is None:
                            continue                 # stalled: send nothing, like a dead encoder
                        seq = new_seq
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(data)).encode() + b"\r\n\r\n" + data + b"\r\n")
                        self.wfile.flush()
                finally:
                    server._viewer(-1)

        return Handler


def main(argv=None) -> int:
    from vksroom.hil.scene import JUDGE_VIEW

    ap = argparse.ArgumentParser(prog="python -m vksroom.hil.video_stream",
                                 description="Synthetic courtroom camera video as MJPEG over HTTP (127.0.0.1 only).")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--size", default="1280x720", help="WxH (default 1280x720)")
    ap.add_argument("--fps", type=float, default=10.0)
    ap.add_argument("--view", default="overview", help="overview | judge | PAN,TILT,ZOOM in VISCA units")
    ap.add_argument("--fault", choices=STREAM_FAULTS, default=None)
    ap.add_argument("--level", type=int, default=2, choices=(1, 2, 3))
    args = ap.parse_args(argv)
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
        view = {"overview": OVERVIEW, "judge": JUDGE_VIEW}.get(args.view) or tuple(
            float(x) for x in args.view.split(","))
        if len(view) != 3:
            raise ValueError
    except ValueError:
        ap.error("--size is WxH and --view is overview, judge or PAN,TILT,ZOOM")
    logging.basicConfig(level=logging.INFO)
    srv = VideoStreamServer(size=(w, h), fps=args.fps, port=args.port)
    srv.set_view(*view)
    srv.set_fault(args.fault, args.level)
    srv.start()
    print(f"streaming {w}x{h} at {args.fps:g} fps on {srv.url} (snapshot: /snapshot.jpg, faults: /fault?name=...)")
    try:
        wait_for_stop()
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
