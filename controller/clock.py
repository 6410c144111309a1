"""Time for the planner: what time it is, and timers that fire at a given time.

Two clocks with one interface:

* :class:`RealClock` - wall time (UTC epoch seconds); one scheduler thread waits for the
  next timer and runs each callback on its own short-lived thread, so a callback that
  waits for a self-test does not hold the others up.
* :class:`ManualClock` - time that moves only when a test calls :meth:`ManualClock.advance`.
  Timers due on the way fire in time order, on the caller's thread, with ``now()`` set to
  each timer's own due time; when ``advance`` returns every due callback has finished.
  A simulated day runs in a fraction of a second with no sleeping.

A clock is callable (``clock()`` is ``clock.now()``), so it can be handed to the
controller wherever a plain time function is expected.

**A step of the wall clock** (NTP setting a Pi's clock that booted at the time it shut down,
an administrator's ``date -s``) is not time passing: timers whose due time the step jumped
over do not fire in a burst. They are handed, once, to the clock's step listeners
(:meth:`Clock.on_step`), which plan again from the true time (the lifecycle does); with no
listener they run one after the other on one thread. :class:`RealClock` sees a step as the
wall clock moving away from the monotonic clock; :meth:`ManualClock.step_to` makes one.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from abc import ABC, abstractmethod
from typing import Callable

log = logging.getLogger(__name__)


class Timer:
    """A pending call; ``cancel()`` stops it from firing (harmless after it fired)."""

    __slots__ = ("when", "fn", "args", "name", "cancelled", "fired")

    def __init__(self, when: float, fn: Callable, args: tuple, name: str):
        self.when, self.fn, self.args, self.name = when, fn, args, name
        self.cancelled = False
        self.fired = False

    def cancel(self) -> None:
        self.cancelled = True

    @property
    def active(self) -> bool:
        return not (self.cancelled or self.fired)

    def _run(self) -> None:
        self.fired = True
        try:
            self.fn(*self.args)
        except Exception:
            log.exception("timer %s failed", self.name or getattr(self.fn, "__name__", self.fn))

    def __repr__(self) -> str:
        return f"Timer({self.name or self.fn!r} at {self.when:.0f}{' cancelled' if self.cancelled else ''})"


class Clock(ABC):
    _on_step: list[Callable[[float, float, list[Timer]], None]]

    def __init__(self) -> None:
        self._on_step = []

    def __call__(self) -> float:
        return self.now()

    @abstractmethod
    def now(self) -> float:
        """Seconds since the epoch, UTC."""

    @abstractmethod
    def call_at(self, when: float, fn: Callable, *args, name: str = "") -> Timer:
        """Run ``fn(*args)`` once the clock reaches ``when`` (at once if it already has)."""

    def call_later(self, delay: float, fn: Callable, *args, name: str = "") -> Timer:
        return self.call_at(self.now() + delay, fn, *args, name=name)

    def stop(self) -> None:
        """Forget pending timers (the room is stopping)."""

    def on_step(self, fn: Callable[[float, float, list[Timer]], None]) -> None:
        """Call ``fn(expected, now, skipped)`` when the wall clock steps: ``expected`` is where it
        would be had it run on, ``skipped`` the timers the step jumped over (none fired)."""
        self._on_step.append(fn)

    def _stepped(self, expected: float, now: float, skipped: list[Timer]) -> None:
        log.warning("the wall clock stepped by %+.0f s; %d timer(s) jumped over, planned again",
                    now - expected, len(skipped))
        listeners = list(self._on_step)
        if not listeners:
            for timer in skipped:
                timer._run()
            return
        for fn in listeners:
            try:
                fn(expected, now, skipped)
            except Exception:
                log.exception("clock step listener %r failed", fn)


class _TimerHeap:
    def __init__(self):
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def push(self, timer: Timer) -> None:
        heapq.heappush(self._heap, (timer.when, next(self._seq), timer))

    def pop_due(self, until: float) -> Timer | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        if self._heap and self._heap[0][0] <= until:
            return heapq.heappop(self._heap)[2]
        return None

    def next_when(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def pending(self) -> list[Timer]:
        return sorted((t for _, _, t in self._heap if not t.cancelled), key=lambda t: t.when)

    def pop_between(self, after: float, until: float) -> list[Timer]:
        """Take out the timers due in (after, until]: the ones a step of the clock jumped over."""
        taken = [t for _, _, t in self._heap if not t.cancelled and after < t.when <= until]
        if taken:
            keep = [e for e in self._heap if not (after < e[0] <= until) and not e[2].cancelled]
            heapq.heapify(keep)
            self._heap = keep
        return sorted(taken, key=lambda t: t.when)

    def clear(self) -> None:
        self._heap.clear()


class ManualClock(Clock):
    """A clock for tests: time moves only on :meth:`advance` / :meth:`advance_to`."""

    def __init__(self, start: float = 0.0):
        super().__init__()
        self._now = float(start)
        self._timers = _TimerHeap()
        self._lock = threading.RLock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def call_at(self, when: float, fn: Callable, *args, name: str = "") -> Timer:
        timer = Timer(float(when), fn, args, name)
        with self._lock:
            self._timers.push(timer)
        return timer

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        self.advance_to(self.now() + seconds)

    def advance_to(self, when: float) -> None:
        """Move to ``when``, firing every timer due on the way in order (also those that
        the callbacks themselves schedule before ``when``)."""
        with self._lock:
            if when < self._now:
                raise ValueError(f"a clock does not go back ({when} is before {self._now})")
        while True:
            with self._lock:
                timer = self._timers.pop_due(when)
                if timer is None:
                    self._now = when
                    return
                self._now = max(self._now, timer.when)
            timer._run()   # outside the lock: the callback may schedule more timers

    def step_to(self, when: float) -> None:
        """The wall clock steps to ``when`` (forward or back): timers due in between do not fire
        one by one; the step listeners get them (see :meth:`Clock.on_step`)."""
        with self._lock:
            before, self._now = self._now, float(when)
            skipped = self._timers.pop_between(before, self._now) if self._now > before else []
        self._stepped(before, self._now, skipped)

    def pending(self) -> list[Timer]:
        with self._lock:
            return self._timers.pending()

    def stop(self) -> None:
        with self._lock:
            self._timers.clear()


class RealClock(Clock):
    """Wall time; timers run by one scheduler thread, each callback on its own thread."""

    MAX_WAIT_S = 30.0   # re-read the wall clock at least this often (NTP steps, suspend)
    STEP_S = 5.0        # the wall clock moving this much more (or less) than the monotonic one is a step

    def __init__(self, now: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic):
        super().__init__()
        self._now_fn = now
        self._mono_fn = monotonic
        self._seen = (now(), monotonic())   # both clocks read together: a step from here on is seen
        self._timers = _TimerHeap()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def now(self) -> float:
        return self._now_fn()

    def call_at(self, when: float, fn: Callable, *args, name: str = "") -> Timer:
        timer = Timer(float(when), fn, args, name)
        with self._cond:
            if self._stopped:
                timer.cancel()
                return timer
            self._timers.push(timer)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="clock", daemon=True)
                self._thread.start()
            self._cond.notify()
        return timer

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._timers.clear()
            self._cond.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    def _run(self) -> None:
        with self._cond:
            wall, mono = self._seen
            while not self._stopped:
                now, mnow = self.now(), self._mono_fn()
                expected = wall + (mnow - mono)
                wall, mono = now, mnow
                if abs(now - expected) > self.STEP_S:
                    skipped = self._timers.pop_between(expected, now) if now > expected else []
                    threading.Thread(target=self._stepped, args=(expected, now, skipped), name="clock-step",
                                     daemon=True).start()
                timer = self._timers.pop_due(now)
                if timer is not None:
                    threading.Thread(target=timer._run, name=f"timer-{timer.name or 'call'}", daemon=True).start()
                    continue
                nxt = self._timers.next_when()
                wait = self.MAX_WAIT_S if nxt is None else min(self.MAX_WAIT_S, max(0.0, nxt - self.now()))
                self._cond.wait(wait)
