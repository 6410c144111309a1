"""The common audio interface: a DSP or microphone system with numbered channels.

Every model gives: mute get/set, gain get/set (dB), a single level read (dBFS) and a
meter stream. The stream's samples are kept per channel (a few seconds' worth), so the
panel reads live levels and the self-test measures a window without extra queries.

The device tells of changes by itself where its protocol allows: mutes are pushed (TTP
subscriptions, Shure's unsolicited REP; ``pushes_mutes``) and the stream runs at a rate
chosen by the caller (``set_meter_rate``: slow while nobody needs live levels, fast for the
panel's meters, a hearing and a measurement). Subscriptions die with the session or a
reboot of the device: they are made again on every (re)connect, and by :meth:`resume` when
the stream is found silent on a link that stayed up (``stream_stale``).
"""
from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass

from vksroom.drivers.errors import ConfigError
from vksroom.drivers.line import LineClient, LineDevice

log = logging.getLogger(__name__)

HISTORY_S = 30.0


@dataclass(frozen=True)
class Measurement:
    """What one channel's meter showed over a window."""

    index: int
    samples: int
    peak_db: float | None
    mean_db: float | None
    active: float           # share of samples above the noise floor (0..1)
    clipped: int            # samples at or above the clip level

    def to_dict(self) -> dict:
        return {"index": self.index, "samples": self.samples, "peak_db": self.peak_db, "mean_db": self.mean_db,
                "active": round(self.active, 3), "clipped": self.clipped}


class AudioDevice(LineDevice, ABC):
    model = "audio"
    max_channels = 64

    def __init__(self, line: LineClient, channels: list[int] | None = None, meter_rate_ms: int = 100,
                 timeout: float = 3.0):
        super().__init__(line)
        self.timeout = timeout
        self.channels = sorted(set(channels or [1]))
        for ch in self.channels:
            self._check_index(ch)
        if meter_rate_ms and meter_rate_ms < 100:
            raise ConfigError(f"meter rate must be at least 100 ms, got {meter_rate_ms}")
        self.meter_rate_ms = meter_rate_ms        # the fast rate: measurements, live meters
        self.metering = False                     # the stream is wanted (restarted after a reconnect)
        self.stream_ms = meter_rate_ms            # the rate the stream runs (or is to run) at
        self.pushed_at: float | None = None       # monotonic time of the stream's last values
        self._streaming = False                   # the device holds our stream (this session)
        self._cond = threading.Condition()
        self._samples: dict[int, deque[tuple[float, float]]] = {ch: deque() for ch in self.channels}
        self.mutes: dict[int, bool] = {}

    pushes_mutes = False    # the device tells of every mute change by itself (else: read them)

    def _check_index(self, index) -> int:
        if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= self.max_channels:
            raise ConfigError(f"channel must be a number 1-{self.max_channels}, got {index!r}")
        return index

    # --- what every model implements -------------------------------------------------

    @abstractmethod
    def get_mute(self, index: int) -> bool: ...

    @abstractmethod
    def set_mute(self, index: int, muted: bool) -> None: ...

    @abstractmethod
    def get_gain(self, index: int) -> float: ...

    @abstractmethod
    def set_gain(self, index: int, db: float) -> None: ...

    @abstractmethod
    def get_level(self, index: int) -> float:
        """One meter reading in dBFS."""

    @abstractmethod
    def _start_stream(self) -> None:
        """Ask the device to push meter values every ``stream_ms``."""

    @abstractmethod
    def _stop_stream(self) -> None: ...

    def refresh(self) -> dict:
        """A light query that proves the device answers."""
        self.get_mute(self.channels[0])
        return self.status()

    # --- shared ----------------------------------------------------------------------

    def start_meters(self) -> None:
        """The stream at the fast rate (``meter_rate_ms``)."""
        self.set_meter_rate(self.meter_rate_ms)

    def set_meter_rate(self, ms: int) -> None:
        """Run the stream every ``ms`` (no I/O when it already does)."""
        if ms and ms < 100:
            raise ConfigError(f"meter rate must be at least 100 ms, got {ms}")
        if self.metering and self._streaming and self.stream_ms == ms:
            return
        if self._streaming:
            self._stop_stream()
            self._streaming = False
        self.metering, self.stream_ms = True, ms
        self._begin_stream()

    def stop_meters(self) -> None:
        self.metering = False
        self._stop_stream()
        self._streaming = False

    def _begin_stream(self) -> None:
        self.pushed_at = time.monotonic()      # the first values are due within a period from now
        self._start_stream()
        self._streaming = True

    def stream_stale(self, now: float | None = None) -> bool:
        """The stream is wanted but has sent nothing for two periods and a second: the device
        lost our subscription (a reboot on a link that stayed up)."""
        now = time.monotonic() if now is None else now
        return self.metering and (self.pushed_at is None or now - self.pushed_at > 2 * self.stream_ms / 1000 + 1.0)

    def resume(self) -> None:
        """Make the device's subscriptions again on a link that stayed up (it rebooted)."""
        self._resume()

    def _stream(self, values: dict[int, float]) -> None:
        """Values the stream pushed (the reader thread)."""
        self.pushed_at = time.monotonic()
        for index, db in values.items():
            self._sample(index, db, self.pushed_at)

    def _sample(self, index: int, db: float, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        with self._cond:
            q = self._samples.get(index)
            if q is None:
                return
            q.append((at, db))
            while q and q[0][0] < at - HISTORY_S:
                q.popleft()
            self._cond.notify_all()

    def _muted(self, index: int, muted: bool) -> None:
        if self.mutes.get(index) != muted:
            self.mutes[index] = muted
            self._emit({"kind": "mute", "index": index, "muted": muted})

    def levels(self, max_age_s: float | None = None) -> dict[int, float | None]:
        """The latest meter value per channel (None when nothing fresh: by default, older than
        a second or, on a slow stream, than two of its periods and a half second)."""
        now = time.monotonic()
        if max_age_s is None:
            max_age_s = max(1.0, 2 * self.stream_ms / 1000 + 0.5) if self.metering else 1.0
        with self._cond:
            return {ch: (q[-1][1] if q and now - q[-1][0] <= max_age_s else None) for ch, q in self._samples.items()}

    def wait_samples(self, count: int, timeout: float) -> bool:
        """Wait until every channel has at least ``count`` samples (a stream is flowing)."""
        with self._cond:
            return self._cond.wait_for(lambda: all(len(q) >= count for q in self._samples.values()), timeout)

    def measure(self, window_s: float, floors: dict[int, float], clip_db: dict[int, float] | float = -1.0,
                cancelled: threading.Event | None = None) -> dict[int, Measurement]:
        """Watch the meters, at the fast rate, for ``window_s`` and sum up each channel."""
        self.start_meters()
        t0 = time.monotonic()
        (cancelled or threading.Event()).wait(window_s)
        t1 = time.monotonic()
        out = {}
        with self._cond:
            for ch, q in self._samples.items():
                vals = [db for at, db in q if t0 <= at <= t1]
                floor = floors.get(ch, -60.0)
                clip = clip_db.get(ch, -1.0) if isinstance(clip_db, dict) else clip_db
                out[ch] = Measurement(
                    ch, len(vals), max(vals) if vals else None,
                    round(sum(vals) / len(vals), 2) if vals else None,
                    sum(1 for v in vals if v > floor) / len(vals) if vals else 0.0,
                    sum(1 for v in vals if v >= clip))
        return out

    def status(self) -> dict:
        return {"model": self.model, "connected": self.connected, "metering": self.metering,
                "meter_rate_ms": self.stream_ms if self.metering else None, "mutes": dict(self.mutes),
                "levels": self.levels(), "link_noise": self.line.degraded()}

    def _watch_mutes(self) -> None:
        """Learn every channel's mute now and from the device's own news after (by default: read them)."""
        for ch in self.channels:
            self.get_mute(ch)

    def _resume(self) -> None:
        """After a (re)connect or a reboot: the device holds none of our subscriptions; make
        them again (mutes, and the meter stream at its rate if it was on)."""
        self._streaming = False
        self._watch_mutes()
        if self.metering:
            self._begin_stream()
