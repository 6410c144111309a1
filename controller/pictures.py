"""The cameras' pictures for whoever looks (the panel): one reader per camera, kept while
someone looks.

A panel request must not open a camera's stream itself: opening an unreachable RTSP URL
blocks for the open timeout, a stalled stream for the read timeout, and the panel has four
server threads (cheroot) for everything. :class:`Pictures` owns the readers instead. A request
names the camera and waits, at most as long as it says, for a frame read after it asked;
the service's own thread (``pictures``) starts that camera's :class:`VideoSource` when it is
first asked for and stops it ``idle_s`` after the last request. A camera whose reader has
had no frame for its no-signal time is answered at once: nobody waits on a dead camera
twice. The reader's connecting, reconnecting and timeouts are its own thread's business.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from vksroom.drivers.errors import ConfigError, DeviceTimeout

if TYPE_CHECKING:     # the video stack (cv2) loads when a picture is first asked for
    from vksroom.drivers.video.capture import Frame, VideoSource

log = logging.getLogger(__name__)


class Pictures:
    def __init__(self, cameras: dict[str, str], idle_s: float = 60.0, open_timeout_s: float = 5.0,
                 read_timeout_s: float = 5.0):
        self.cameras = dict(cameras)          # camera id -> video URL
        self.idle_s = idle_s
        self.open_timeout_s, self.read_timeout_s = open_timeout_s, read_timeout_s
        self._cond = threading.Condition()
        self._asked: dict[str, float] = {}    # camera id -> when it was last asked for (monotonic)
        self._sources: dict[str, VideoSource] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    @classmethod
    def for_room(cls, cfg) -> "Pictures":
        """The room's cameras that have a video URL."""
        return cls({d.id: d.options["video"] for d in cfg.devices_of("camera") if d.options.get("video")})

    # -- what a request does: ask, then wait on the reader's frames (never open, never stop)
    def picture(self, camera: str, wait_s: float) -> Frame:
        """A frame of ``camera`` read after this call began, waiting at most ``wait_s``.
        Raises DeviceTimeout (no picture) or ConfigError (no such camera)."""
        from vksroom.drivers.video.capture import NO_SIGNAL
        if camera not in self.cameras:
            raise ConfigError(f"{camera}: no camera with a video URL")
        deadline = time.monotonic() + wait_s
        with self._cond:
            if self._closed:
                raise DeviceTimeout(f"no picture from {camera}: the room is stopping")
            self._asked[camera] = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pictures", daemon=True)
                self._thread.start()
            self._cond.notify_all()
            while (source := self._sources.get(camera)) is None and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
        if source is None:
            raise DeviceTimeout(f"no picture from {camera}: its reader did not start within {wait_s:g} s")
        if source.state == NO_SIGNAL:
            raise DeviceTimeout(f"no picture from {camera} ({source.error or 'no frames'})")
        last = source.latest()
        # the first frame of a new connection may be one the camera had buffered: skip it
        frame = source.wait_frame(max(last.seq if last else 0, 1), max(0.0, deadline - time.monotonic()))
        if frame is None:
            why = f" ({source.error})" if source.error else ""
            raise DeviceTimeout(f"no picture from {camera} within {wait_s:g} s{why}")
        return frame

    def reading(self) -> list[str]:
        """The cameras whose reader runs now."""
        with self._cond:
            return sorted(self._sources)

    # -- the service thread: the only one that starts and stops readers
    def _run(self) -> None:
        from vksroom.drivers.video.capture import VideoSource

        with self._cond:
            while not self._closed:
                now = time.monotonic()
                for camera, at in self._asked.items():
                    if camera not in self._sources and now - at < self.idle_s:
                        self._sources[camera] = VideoSource(
                            self.cameras[camera], name=camera, open_timeout_s=self.open_timeout_s,
                            read_timeout_s=self.read_timeout_s).start()
                        log.info("pictures: reading %s while someone looks", camera)
                        self._cond.notify_all()
                idle = [c for c in self._sources if now - self._asked[c] >= self.idle_s]
                stopping = [self._sources.pop(c) for c in idle]
                if stopping:
                    self._cond.notify_all()
                    self._cond.release()
                    try:
                        for source in stopping:
                            log.info("pictures: nobody looked at %s for %g s: reader stopped", source.name,
                                     self.idle_s)
                            source.stop()
                    finally:
                        self._cond.acquire()
                    continue
                wake = [self._asked[c] + self.idle_s - now for c in self._sources]
                self._cond.wait(min(wake) if wake else None)

    # -- a room service: nothing to start (readers start when asked for), stop closes all
    def start(self) -> None:
        pass

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread, sources = self._thread, list(self._sources.values())
            self._sources.clear()
        if thread is not None:
            thread.join(10)
        for source in sources:
            source.stop()
