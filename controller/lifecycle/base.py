"""What every part of the lifecycle shares: its settings, the room's log, and announcing in
the room's order.

The parts (planner, calls, incidents, first aid, watch, test sessions, outputs, record)
each own their state and reach one another through the :class:`~.Lifecycle` that built
them. One condition (``Parts.changed``) lets tests and the CLI wait for any change; a
reaction to a room event runs holding its lock, so a waiter sees it not begun or complete.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Callable

from vksroom.controller import events as ev

log = logging.getLogger("vksroom.controller.lifecycle")
UNSYNCED_MARK = "clock_unsynchronised"   # in the detail of a room log row made while the clock was not true


@dataclass
class LifecycleSettings:
    warn_before_s: float = 24 * 3600       # item 13: a test session no later than a day before
    connect_window_s: float = 30 * 60      # item 15: the secretary connects 20-30 min before
    selftest_margin_s: float = 5 * 60      # the self-test starts this much + its deadline before the window
    relay_off_s: float = 10.0              # first aid: how long power stays cut
    first_aid_wait_s: float = 120.0        # ...and how long the device may take to answer again
    first_aid_cooldown_s: float = 3600.0   # power-cycle a device at most once in this time
    call_timeout_s: float = 60.0           # the far side must answer within this
    call_poll_s: float = 5.0               # how often the call state is read while dialling
    test_call_hold_s: float = 10.0         # a test call is held this long, then hung up
    watch_interval_s: float = 10.0         # in-hearing sampling of call state and links
    degrade_after_s: dict = field(default_factory=lambda: {"video": 20.0, "audio": 30.0, "call": 10.0,
                                                           "link": 15.0})
    quality: dict = field(default_factory=dict)   # [lifecycle.quality] over controller.quality.DEFAULTS

    @classmethod
    def from_config(cls, table: dict) -> "LifecycleSettings":
        """The room config's ``[lifecycle]`` over the defaults (``degrade_after_s`` merged key by key)."""
        defaults = cls()
        return cls(**{**defaults.__dict__, **table,
                      "degrade_after_s": {**defaults.degrade_after_s, **table.get("degrade_after_s", {})}})


class OwnedLock:
    """A re-entrant lock that knows whether this thread holds it (announcing while holding it
    off the room thread could deadlock against the room thread)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._owner: int | None = None
        self._depth = 0

    def acquire(self, *args) -> bool:
        got = self._lock.acquire(*args)
        if got:
            self._owner, self._depth = threading.get_ident(), self._depth + 1
        return got

    def release(self) -> None:
        self._depth -= 1
        if not self._depth:
            self._owner = None
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()

    def held(self) -> bool:
        return self._owner == threading.get_ident()

    # threading.Condition uses these to wait on a re-entrant lock
    def _is_owned(self) -> bool:
        return self.held()

    def _release_save(self):
        depth, self._depth, self._owner = self._depth, 0, None
        for _ in range(depth):
            self._lock.release()
        return depth

    def _acquire_restore(self, depth) -> None:
        for _ in range(depth):
            self._lock.acquire()
        self._owner, self._depth = threading.get_ident(), depth


class Parts:
    """The shared plumbing every part gets: the room, its clock and settings, the lock and
    condition, the room log, and announcing events in the room's order."""

    def __init__(self, room, clock, settings: LifecycleSettings):
        self.room = room
        self.cfg = room.cfg
        self.store = room.store
        self.clock = clock
        self.settings = settings
        self.lock = OwnedLock()
        # Condition works on any lock with acquire/release and the three hooks OwnedLock
        # provides; typeshed admits only threading's own locks.
        self.changed = threading.Condition(self.lock)  # type: ignore[arg-type]
        # Whether the system clock is true (see controller/timesync.py); set by Lifecycle.watch_clock.
        self.clock_true: Callable[[], bool] = lambda: True

    def label(self, dev: str | None):
        """A device as people know it (its configured label), for texts made from codes."""
        dcfg = self.cfg.devices.get(dev) if dev else None
        return dcfg.label if dcfg else dev

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def log(self, kind: str, hid: str | None, who: str = "", detail: dict | None = None,
            device: str | None = None) -> None:
        """One row of the room log (the hearing record, the act's facts); made while the system clock
        is not synchronised, it says so (its time may be wrong)."""
        detail = detail or {}
        if not self.clock_true():
            detail = {**detail, UNSYNCED_MARK: True}
        self.store.execute("INSERT INTO room_log(at, kind, hearing_id, device, who, detail) VALUES (?,?,?,?,?,?)",
                           (self.clock.now(), kind, hid, device, who, dump(detail)))

    def publish(self, kind: str, data: dict) -> None:
        """Announce an event from the room thread, which announces everything else the room says.

        The bus hands an event to its followers one after the other on the publishing thread;
        two threads publishing at once would reach the followers in different orders (the MQTT
        link's seq would disagree with the panel's). Published from one thread, every follower
        sees one order per room, and an event a timer or the panel causes after a room event
        comes after it everywhere. Off the room thread never called holding the lock: the room
        thread may be waiting for it."""
        event = ev.Event(kind, data, ts=self.clock.now())
        elsewhere = not self.room.on_room_thread() and self.room.thread_alive
        if elsewhere and self.lock.held():   # a bug: the room thread may wait for our lock
            log.error("lifecycle: %s announced holding the planner lock; published out of the room's order", kind)
            elsewhere = False
        if not elsewhere:
            self.room.events.publish(event)
            return
        done = threading.Event()

        def announce():
            try:
                self.room.events.publish(event)
            finally:
                done.set()

        self.room.post(announce)
        while not done.wait(0.5):
            if not self.room.thread_alive:   # the room stopped before it got to it
                log.warning("lifecycle: the room stopped before announcing %s", kind)
                return

    def after_event(self, fn: Callable, *args) -> None:
        """On the room thread: run ``fn`` after the item being handled (the event being delivered),
        holding the lock throughout, so a waiter sees the reaction either not begun or complete.
        Elsewhere (a timer, the panel): at once."""
        if not self.room.on_room_thread():
            fn(*args)
            return

        def react():
            with self.lock:
                fn(*args)

        self.room.post(react)


def dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
