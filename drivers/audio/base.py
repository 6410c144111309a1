"""The common audio interface: a DSP or microphone system with numbered channels.

Every model gives: mute get/set, gain get/set (dB), a single level read (dBFS) and a
meter stream. The stream's samples are kept per channel (a few seconds' worth), so the
panel reads live levels and the self-test measures a window without extra queries.
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
        self.meter_rate_ms = meter_rate_ms
        self.metering = False                     # the stream is wanted (restarted after a reconnect)
        self._cond = threading.Condition()
        self._samples: dict[int, deque[tuple[float, float]]] = {ch: deque() for ch in self.channels}
        self.mutes: dict[int, bool] = {}


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
        """Ask the device to push meter values every ``meter_rate_ms``."""

    @abstractmethod
    def _stop_stream(self) -> None: ...

    def refresh(self) -> dict:
        """A light query that proves the device answers."""
        self.get_mute(self.channels[0])
        return self.status()

    # --- shared ----------------------------------------------------------------------

    def start_meters(self) -> None:
        self.metering = True
        self._start_stream()

    def stop_meters(self) -> None:
        self.metering = False
        self._stop_stream()

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

    def levels(self, max_age_s: float = 1.0) -> dict[int, float | None]:
        """The latest meter value per channel (None when nothing fresh)."""
        now = time.monotonic()
        with self._cond:
            return {ch: (q[-1][1] if q and now - q[-1][0] <= max_age_s else None) for ch, q in self._samples.items()}

    def wait_samples(self, count: int, timeout: float) -> bool:
        """Wait until every channel has at least ``count`` samples (a stream is flowing)."""
        with self._cond:
            return self._cond.wait_for(lambda: all(len(q) >= count for q in self._samples.values()), timeout)

    def measure(self, window_s: float, floors: dict[int, float], clip_db: dict[int, float] | float = -1.0,
                cancelled: threading.Event | None = None) -> dict[int, Measurement]:
        """Watch the meters for ``window_s`` and sum up each channel."""
        if not self.metering:
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
                "mutes": dict(self.mutes), "levels": self.levels(), "link_noise": self.line.degraded()}

    def _resume(self) -> None:
        """After a (re)connect: read mutes and restart the meter stream if it was on."""
        for ch in self.channels:
            self.get_mute(ch)
        if self.metering:
            self._start_stream()
