"""One coordinator per device: owns its connection and its polling.

In the manner of Home Assistant's coordinators: availability derives from one fact,
whether the last poll succeeded; a transition is reported (and logged) once, not on
every poll. A lost device is reconnected on its own with a short capped backoff, so a
power-cycled camera or a re-plugged USB adapter comes back without an operator.

Every call into the adapter (connect, poll, checks, panel commands) is made while
holding the device's lock, so the driver sees one caller at a time.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from vksroom.controller.devices import DeviceAdapter
from vksroom.controller.model import CheckResult
from vksroom.drivers.errors import DeviceError

log = logging.getLogger(__name__)

# on_change(device_id, available, detail, values, live): called on the device's thread whenever
# availability, a value the poll read, or a live check changes (not on every identical poll).
ChangeHandler = Callable[[str, bool, str, dict, tuple], None]


class Coordinator:
    def __init__(self, adapter: DeviceAdapter, on_change: ChangeHandler, poll_interval: float = 1.0,
                 max_backoff: float = 2.0):
        self.adapter = adapter
        self.on_change = on_change
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.lock = threading.RLock()
        self.connected = False
        self.available: bool | None = None   # None until the first attempt
        self.reason = "not yet contacted"
        self.values: dict = {}
        self.live: tuple[CheckResult, ...] = ()   # what the poll's values say of the device's health
        self.last_ok: float | None = None
        self.busy = False      # the room is in a hearing or a self-test: the adapter's full pace
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"device-{adapter.id}", daemon=True)
        adapter.bind_poke(self.poke)      # a change the device pushes is polled at once

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        # A check may still hold the device (a preset recall, a picture grab): do not wait
        # for it to finish; closing the transport under it makes it end at once.
        locked = self.lock.acquire(timeout=0.5)
        try:
            self.adapter.close()
        except Exception:
            log.debug("closing %s failed", self.adapter.id, exc_info=True)
        finally:
            self.connected = False
            if locked:
                self.lock.release()

    def poke(self) -> None:
        """Poll now instead of at the next interval (after a self-test, on a button)."""
        self._wake.set()

    def set_busy(self, busy: bool) -> None:
        """The room is busy (a hearing, a self-test): poll every ``poll_interval``, else every
        ``poll_interval * adapter.idle_poll_factor``; becoming busy polls at once."""
        if busy != self.busy:
            self.busy = busy
            if busy:
                self.poke()

    @property
    def interval(self) -> float:
        return self.poll_interval * (1.0 if self.busy else max(1.0, self.adapter.idle_poll_factor))

    def call(self, fn: Callable[[DeviceAdapter], object]):
        """Run ``fn(adapter)`` holding the device lock; a transport failure marks the device lost."""
        with self.lock:
            if not self.connected:
                self._connect()
                if not self.connected:
                    raise DeviceError(f"{self.adapter.id} is not reachable: {self.reason}")
            try:
                return fn(self.adapter)
            except DeviceError as exc:
                if _is_link_failure(exc):
                    self._lost(exc)
                raise

    # -- the device's own thread ----------------------------------------------------------

    def _run(self) -> None:
        backoff = 0.25
        while not self._stop.is_set():
            with self.lock:
                if not self.connected:
                    self._connect()
                else:
                    self._poll()
            if self.connected:
                backoff = 0.25
                delay = self.interval
            else:
                delay = backoff
                backoff = min(self.max_backoff, backoff * 2)
            self._wake.wait(delay)
            self._wake.clear()

    def _connect(self) -> None:
        try:
            self.adapter.connect()
            self.connected = True
            self._poll()
        except DeviceError as exc:
            self._lost(exc)
        except Exception as exc:  # a driver bug must not kill the coordinator
            log.exception("%s: unexpected error while connecting", self.adapter.id)
            self._lost(exc)

    def _poll(self) -> None:
        self.adapter.busy = self.busy
        try:
            values = self.adapter.poll() or {}
        except DeviceError as exc:
            self._lost(exc)
            return
        except Exception as exc:
            log.exception("%s: unexpected error while polling", self.adapter.id)
            self._lost(exc)
            return
        self.last_ok = time.time()
        live = self._live_checks(values)
        if self.available is True and values == self.values and live is self.live:
            return
        back = self.available is not True
        for c in live:   # logged once per transition, like availability
            if not any(c is old for old in self.live) and (not c.ok or not back):
                log.log(logging.INFO if c.ok else logging.WARNING, "%s: %s %s", self.adapter.id, c.check,
                        "ok" if c.ok else f"fails ({c.code})")
        self.values, self.live = values, live
        if back:
            self.available = True
            self.reason = ""
            log.info("%s is available", self.adapter.id)
        self.on_change(self.adapter.id, True, "", values, live)

    def _live_checks(self, values: dict) -> tuple[CheckResult, ...]:
        """The health the poll's values show; an unchanged check keeps its result (and time)."""
        try:
            fresh = tuple(self.adapter.live_checks(values))
        except Exception:
            log.exception("%s: judging the poll's values failed", self.adapter.id)
            return self.live
        before = {c.check: c for c in self.live}
        kept = tuple(before[c.check] if c.check in before and _same(before[c.check], c) else c for c in fresh)
        if len(kept) == len(self.live) and all(a is b for a, b in zip(kept, self.live)):
            return self.live
        return kept

    def _lost(self, exc: BaseException) -> None:
        reason = str(exc) or type(exc).__name__   # technical detail: for the log and the technician
        if self.connected:
            try:
                self.adapter.close()
            except Exception:
                pass
        self.connected = False
        self.reason = reason
        if self.available is not False:
            self.available = False
            self.values, self.live = {}, ()
            log.warning("%s is unavailable: %s", self.adapter.id, reason)
            self.on_change(self.adapter.id, False, reason, {}, ())


def _same(a: CheckResult, b: CheckResult) -> bool:
    return (a.ok, a.code, a.params) == (b.ok, b.code, b.params)


def _is_link_failure(exc: DeviceError) -> bool:
    from vksroom.drivers.errors import DeviceTimeout, TransportError

    return isinstance(exc, (TransportError, DeviceTimeout))
