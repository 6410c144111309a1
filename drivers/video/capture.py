"""Reading camera video: always the latest frame, never a backlog.

:class:`VideoSource` opens a URL (RTSP, HTTP MJPEG, UDP, a file) or a V4L2 device
(``/dev/video0`` or ``"0"``) and reads it in a background thread that keeps only the newest
frame with its timestamps. When reading fails it reopens after ``reconnect_s``; when no new
frame has arrived for ``no_signal_after_s`` its state is ``"no_signal"``.

Two readers. ``http://`` MJPEG streams are read by :mod:`vksroom.drivers.video.mjpeg`:
the thread only splits the multipart stream and keeps the newest JPEG's bytes; a picture
is decoded when asked for (:attr:`Frame.image`, or :meth:`Frame.for_analysis` at a reduced
size that still covers the analysis size). Everything else (RTSP/H.264, files, V4L2, and
HTTP that is not multipart) goes through ``cv2.VideoCapture``, which must decode every
frame of an H.264 stream to stay at the live edge: for several cameras use the camera's
sub-stream (lower resolution and frame rate) for monitoring.

:func:`read_file_frames` samples a video file (or one image) for offline judging.
:class:`Monitor` judges a source's latest frame a few times a second.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass

from vksroom.drivers.video.cv import cv2
import numpy as np

from vksroom.drivers.errors import ConfigError, DeviceError, DeviceTimeout, TransportError
from vksroom.drivers.video import mjpeg
from vksroom.drivers.video.quality import ANALYSIS_EDGE, BadFrame, Persistence

log = logging.getLogger(__name__)

CONNECTING, LIVE, NO_SIGNAL, STOPPED = "connecting", "live", "no_signal", "stopped"


class Frame:
    """One picture of a source: decoded already (``cv2.VideoCapture``) or JPEG bytes that
    are decoded on first use (MJPEG reader).

    ``seq`` counts frames per source (1, 2, 3...), ``t``/``wall`` are monotonic/wall time
    when it was read, ``source_ts`` the stream's own timestamp when it gives one (for MJPEG:
    the number of the last part whose bytes changed; it stalls when the camera repeats the
    same picture byte for byte). For a stream with inter-frame coding (H.264 through
    ``cv2.VideoCapture``) ``keyframe`` is the decoder's word on this frame and ``gop`` the
    number of keyframes decoded up to and including it, every frame read counted, not only
    the published ones (frames with the same ``gop`` lie between the same two keyframes:
    the analyzer compares like with like); both None for MJPEG.
    """

    __slots__ = ("seq", "t", "wall", "source_ts", "jpeg", "_image", "_reduced", "keyframe", "gop")

    def __init__(self, image: np.ndarray | None, seq: int, t: float, wall: float,
                 source_ts: float | None, jpeg: bytes | None = None,
                 keyframe: bool | None = None, gop: int | None = None):
        if image is None and not jpeg:
            raise ValueError("a frame needs a picture or JPEG bytes")
        self._image, self.jpeg = image, jpeg
        self.seq, self.t, self.wall, self.source_ts = seq, t, wall, source_ts
        self.keyframe, self.gop = keyframe, gop
        self._reduced: tuple[np.ndarray, float] | None = None

    def _jpeg(self) -> bytes:
        assert self.jpeg is not None, "__init__ lets no frame have neither a picture nor bytes"
        return self.jpeg

    @property
    def image(self) -> np.ndarray:
        """The full-size BGR picture (decoded once). Raises BadFrame for an undecodable JPEG."""
        if self._image is None:
            img = mjpeg.decode(self._jpeg())
            if img is None:
                raise BadFrame(f"frame {self.seq}: JPEG data ({len(self._jpeg())} bytes) does not decode")
            self._image = img
        return self._image

    def for_analysis(self, min_edge: int = ANALYSIS_EDGE) -> tuple[np.ndarray, float]:
        """``(picture, scale)`` for the analyzer: for JPEG bytes, decoded at the largest
        libjpeg reduction whose long edge stays >= ``min_edge`` (the analyzer halves down
        to that size anyway); ``scale`` is native pixels per returned pixel."""
        if self._image is not None:
            return self._image, 1.0
        if self._reduced is None:
            k = mjpeg.reduction_for(mjpeg.jpeg_size(self._jpeg()), min_edge)
            img = mjpeg.decode(self._jpeg(), k) if k > 1 else None
            self._reduced = (img, float(k)) if img is not None else (self.image, 1.0)
        return self._reduced


def open_capture(url: str, open_timeout_s: float = 5.0, read_timeout_s: float = 5.0) -> cv2.VideoCapture:
    """Open ``url`` with the right backend and bounded waits. Raises TransportError."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("video source is empty")
    url = url.strip()
    if re.fullmatch(r"\d{1,2}", url) or url.startswith("/dev/video"):
        index = int(url) if url.isdigit() else url
        cap = cv2.VideoCapture(index, cv2.CAP_V4L2)
    else:
        if "://" not in url and not os.path.exists(url):
            raise TransportError(f"video source {url!r}: no such file")
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(open_timeout_s * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(read_timeout_s * 1000)]
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        raise TransportError(f"cannot open video source {url!r}")
    return cap


class VideoSource:
    """One camera's video, read in a background thread (start/stop, or use ``with``)."""

    def __init__(self, url: str, no_signal_after_s: float = 3.0, reconnect_s: float = 1.0,
                 open_timeout_s: float = 5.0, read_timeout_s: float = 5.0, name: str = "",
                 pace_files: bool = True, max_fps: float = 0.0, reader: str = "auto"):
        if reader not in ("auto", "mjpeg", "capture"):
            raise ConfigError(f"video reader {reader!r}: use auto, mjpeg or capture")
        self.url = url
        self.name = name or url
        self.no_signal_after_s = no_signal_after_s
        self.reconnect_s = reconnect_s
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.pace_files = pace_files
        # Decode every packet (H.264 needs it and it keeps us at the live edge) but convert
        # to BGR at most max_fps times a second: the conversion is a large part of the cost.
        self.max_fps = max_fps
        # "auto": our own MJPEG reader for http:// URLs, falling back to cv2.VideoCapture
        # (for good) when the server answers with something that is not multipart.
        self.reader = reader
        self.reading_with = ""         # "mjpeg" or "capture" once connected
        self.parts = 0                 # MJPEG parts received (all, not only kept)
        self._stream: mjpeg.MjpegStream | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frame: Frame | None = None
        self._seq = 0
        self.error = ""               # why the last open/read failed
        self.reconnects = 0
        self.started_at = 0.0

    # -- life cycle
    def start(self) -> "VideoSource":
        if self._thread and self._thread.is_alive():
            return self
        self._stop.clear()
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"video:{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        stream = self._stream
        if stream is not None:
            stream.close()          # unblocks the reader thread's recv at once
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- what the rest of the room asks
    @property
    def state(self) -> str:
        if self._thread is None:
            return STOPPED
        f = self._frame
        now = time.monotonic()
        if f is None:
            return NO_SIGNAL if now - self.started_at > self.no_signal_after_s else CONNECTING
        return NO_SIGNAL if now - f.t > self.no_signal_after_s else LIVE

    def latest(self) -> Frame | None:
        return self._frame

    def wait_frame(self, after_seq: int = 0, timeout: float = 5.0) -> Frame | None:
        """The newest frame with ``seq > after_seq``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not (self._frame is not None and self._frame.seq > after_seq):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(left)
            return self._frame

    def grab(self, timeout: float = 5.0) -> Frame:
        """A frame read after this call began. Raises DeviceTimeout naming the source."""
        last = self._frame.seq if self._frame else 0
        f = self.wait_frame(last, timeout)
        if f is None:
            why = f" ({self.error})" if self.error else ""
            raise DeviceTimeout(f"no picture from {self.name} within {timeout:g} s{why}")
        return f

    def wait_state(self, state: str, timeout: float) -> bool:
        """Wait until :attr:`state` is ``state`` (checked on every frame and at least every 0.1 s)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.state != state:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    # -- the reader thread
    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            if not first:
                self.reconnects += 1
                if self._stop.wait(self.reconnect_s):
                    break
            first = False
            if self.reader == "mjpeg" or (self.reader == "auto" and mjpeg.is_http(self.url)):
                try:
                    self._run_mjpeg()
                    continue
                except mjpeg.NotMjpeg as exc:
                    if self.reader == "mjpeg":
                        self.error = str(exc)
                        continue
                    log.info("%s; reading it with cv2.VideoCapture", exc)
                    self.reader = "capture"
                except (DeviceError, ConfigError) as exc:
                    self.error = str(exc)
                    log.debug("%s", exc)
                    continue
            try:
                cap = open_capture(self.url, self.open_timeout_s, self.read_timeout_s)
            except (TransportError, ConfigError) as exc:
                self.error = str(exc)
                log.debug("%s", exc)
                continue
            try:
                self._read_loop(cap)
            except cv2.error as exc:             # decoder trouble: reopen
                self.error = f"decoder error: {exc}"
            finally:
                cap.release()

    def _publish(self, frame_args: dict, now: float) -> None:
        with self._cond:
            self._seq += 1
            self._frame = Frame(seq=self._seq, t=now, wall=time.time(), **frame_args)
            self.error = ""
            self._cond.notify_all()

    def _run_mjpeg(self) -> None:
        """Read one MJPEG connection until it fails or we stop (raises DeviceError/NotMjpeg)."""
        stream = mjpeg.MjpegStream(self.url, self.open_timeout_s, self.read_timeout_s)
        self._stream = stream
        try:
            if self._stop.is_set():
                return
            stream.open()
            self.reading_with = "mjpeg"
            prev, changed = None, 0
            for data in stream.parts():
                if self._stop.is_set():
                    return
                self.parts += 1
                if data != prev:         # byte-identical parts: the camera repeats a picture
                    changed += 1
                    prev = data
                self._publish({"image": None, "jpeg": data, "source_ts": float(changed)}, time.monotonic())
        except DeviceError:
            if self._stop.is_set():
                return
            raise
        finally:
            self._stream = None
            stream.close()

    def _read_loop(self, cap: cv2.VideoCapture) -> None:
        self.reading_with = "capture"
        is_file = "://" not in self.url and os.path.isfile(self.url)
        fps = cap.get(cv2.CAP_PROP_FPS) if is_file else 0.0
        period = 1.0 / fps if self.pace_files and fps and 0 < fps < 1000 else 0.0
        min_gap = 1.0 / self.max_fps if self.max_fps > 0 else 0.0
        last = -1e9
        gop = 0
        while not self._stop.is_set():
            ok = cap.grab()
            now = time.monotonic()
            keyframe = frame_type(cap)
            gop += bool(keyframe)
            if ok and min_gap and now - last < min_gap:
                continue
            img = cap.retrieve()[1] if ok else None
            if not ok or img is None or img.size == 0:
                self.error = "stream ended or stalled" if not is_file else "end of file"
                return
            last = now
            pos = cap.get(cv2.CAP_PROP_POS_MSEC)
            self._publish({"image": img, "source_ts": pos / 1000.0 if pos and pos > 0 else None,
                           "keyframe": keyframe, "gop": gop if keyframe is not None else None}, now)
            if period and self._stop.wait(period):
                return


def frame_type(cap) -> bool | None:
    """Whether the frame just grabbed is a keyframe, as OpenCV's FFmpeg backend tells
    (``CAP_PROP_FRAME_TYPE``: the picture type's letter); None where it does not (other
    backends, MJPEG, V4L2)."""
    kind = int(cap.get(cv2.CAP_PROP_FRAME_TYPE) or 0)
    return kind == ord("I") if kind in (ord("I"), ord("P"), ord("B")) else None


def read_file_frames(path: str, rate_hz: float = 2.0, max_seconds: float = 30.0, coding: bool = False):
    """Frames of an image or a video file for offline judging: ``[(image, t, source_ts)]``,
    with ``coding`` ``[(image, t, source_ts, keyframe, gop)]`` as :class:`Frame` has them.

    A video is sampled at ``rate_hz`` of its own time for at most ``max_seconds``.
    Raises :class:`BadFrame` when the file cannot be read as either.
    """
    if not os.path.isfile(path):
        raise BadFrame(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise BadFrame(f"{path}: empty file")
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)      # None for videos and garbage
    if img is not None:
        return [(img, 0.0, None, None, None) if coding else (img, 0.0, None)]
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        if not cap.isOpened():
            raise BadFrame(f"{path}: not a readable image or video")
        fps = cap.get(cv2.CAP_PROP_FPS)
        fps = fps if fps and 0 < fps < 1000 else 25.0
        out, index, next_t, gop = [], 0, 0.0, 0
        while True:
            ok = cap.grab()
            if not ok:
                break
            keyframe = frame_type(cap)
            gop += bool(keyframe)
            t = index / fps
            index += 1
            if t > max_seconds:
                break
            if t + 1e-6 < next_t:
                continue
            ok, frame = cap.retrieve()
            if not ok or frame is None:
                break
            out.append((frame, t, t, keyframe, gop if keyframe is not None else None) if coding else (frame, t, t))
            next_t += 1.0 / rate_hz
        if not out:
            raise BadFrame(f"{path}: no decodable frame (truncated or not a video)")
        return out
    finally:
        cap.release()


class Monitor:
    """Judge a :class:`VideoSource`'s newest frame ``rate_hz`` times a second in a thread;
    with ``calm_hz``, that often only while the pictures pass (the last verdict good, no alarm
    up), and ``rate_hz`` times from the first fault until they pass again.

    ``on_verdict(verdict, frame)`` is called for each judged frame; ``latest`` keeps the last.
    Single verdicts are per frame; :attr:`alarms` applies :class:`Persistence` (a check
    alarms after ``raise_after`` faulty frames in a row, clears after ``clear_after`` good
    ones) and ``on_alarm(alarms, verdict)`` is called whenever that set changes.

    ``prepare()``, when given, is called in the monitor's thread before each frame is judged:
    where its owner hands the analyzer other references (``analyzer.set_references``) without
    a lock, this thread being the analyzer's only user.
    """

    def __init__(self, source: VideoSource, analyzer, rate_hz: float = 2.0, on_verdict=None,
                 raise_after: int = 3, clear_after: int = 2, on_alarm=None, calm_hz: float | None = None,
                 prepare=None):
        self.source, self.analyzer, self.rate_hz = source, analyzer, rate_hz
        self.prepare = prepare
        self.calm_hz = calm_hz
        self.on_verdict, self.on_alarm = on_verdict, on_alarm
        self.persistence = Persistence(raise_after, clear_after)
        self.alarms: set[str] = set()
        self.latest = None
        self.judged = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Monitor":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"monitor:{self.source.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    @property
    def period(self) -> float:
        """Seconds between judgements now: the calm pace while the pictures pass."""
        if self.calm_hz and self.latest is not None and self.latest.ok and not self.alarms:
            return 1.0 / self.calm_hz
        return 1.0 / self.rate_hz

    def _run(self) -> None:
        seq = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            period = self.period
            f = self.source.wait_frame(seq, timeout=period)
            if f is not None:
                seq = f.seq
                try:
                    if self.prepare is not None:
                        self.prepare()
                    image, scale = f.for_analysis()
                    v = self.analyzer.analyze(image, t=f.t, source_ts=f.source_ts, scale=scale,
                                              keyframe=f.keyframe, gop=f.gop)
                except BadFrame as exc:
                    log.warning("%s: %s", self.source.name, exc)
                else:
                    self.latest = v
                    self.judged += 1
                    alarms = self.persistence.update(v)
                    changed = alarms != self.alarms
                    self.alarms = alarms
                    if self.on_verdict:
                        self.on_verdict(v, f)
                    if changed and self.on_alarm:
                        self.on_alarm(set(alarms), v)
                    period = self.period
            next_at += period
            if self._stop.wait(max(0.0, next_at - time.monotonic())):
                break
            next_at = max(next_at, time.monotonic() - period)
