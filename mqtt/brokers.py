"""Where and when the room's MQTT link connects: its brokers in turn, and the pause between
attempts.

:class:`Backoff` is the pause: exponential from ``first`` to a ``cap`` (1.5 s by default, so
a room is back within 2 s of its broker's return), each pause jittered between half and
all of its step so a thousand rooms that lost the same broker do not come back in one
burst. A connection that drops soon after its CONNACK (a broker that accepts and then
hangs up: a cluster node whose session store is elsewhere, an ACL that closes the
connection) counts as a failure: the pause keeps growing instead of starting again from
``first``; only a connection that stayed up ``stable`` seconds resets it.
"""
from __future__ import annotations

import random
import threading
import time


class Backoff:
    """The pause before the next connection attempt. Thread-safe; ``clock`` is monotonic seconds."""

    def __init__(self, first: float = 0.25, cap: float = 1.5, stable: float = 20.0, *,
                 rand=random.random, clock=time.monotonic):
        if not 0 < first <= cap:
            raise ValueError("backoff: need 0 < first <= cap")
        self.first, self.cap, self.stable = first, cap, stable
        self._rand, self._clock = rand, clock
        self._lock = threading.Lock()
        self._failures = 0                  # attempts that failed (or dropped early) in a row
        self._up_since: float | None = None

    def connected(self) -> None:
        with self._lock:
            self._up_since = self._clock()

    def failed(self) -> float:
        """A connection attempt failed, or a connection ended: the pause before the next one."""
        with self._lock:
            if self._up_since is not None and self._clock() - self._up_since >= self.stable:
                self._failures = 0          # it held long enough: this drop starts afresh
            self._up_since = None
            step = min(self.cap, self.first * 2 ** min(self._failures, 32))
            self._failures += 1
            return step / 2 + self._rand() * step / 2

    @property
    def failures(self) -> int:
        with self._lock:
            return self._failures
