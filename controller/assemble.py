"""One room, assembled: the controller (owner of room state and devices), the hearing
lifecycle built on it, and the in-hearing watch. The entry module (``app.py``) and the
tests build rooms here; a bare :class:`Controller` (a stand-alone self-test) has neither."""
from __future__ import annotations

import time
from typing import Callable

from vksroom.controller.config import RoomConfig
from vksroom.controller.lifecycle import Lifecycle, LifecycleSettings
from vksroom.controller.room import Controller
from vksroom.controller.storage import STORAGE_CHECK, volatile
from vksroom.controller.timesync import ClockGuard
from vksroom.controller.watch import HearingWatch


class _Stops:
    """A service that only needs stopping (the watch starts with each hearing)."""

    def __init__(self, stop: Callable[[], None]):
        self.stop = stop

    def start(self) -> None:
        pass


def build_room(cfg: RoomConfig, adapters=None, store=None, clock: Callable[[], float] = time.time,
               lifecycle_settings: LifecycleSettings | None = None, pin_factory=None, calls=None,
               clock_probe: Callable[[], bool | None] | None = None, check_storage: bool = False) -> Controller:
    """The room with its lifecycle (``room.lifecycle``) and watch (``room.watch``); GPIO through
    ``pin_factory`` (gpiozero's; None: the default factory of the machine). With ``clock_probe``
    (e.g. :func:`~vksroom.controller.timesync.system_synchronised`) a clock guard watches whether
    the system clock is true (``room.lifecycle.clock_guard``). With ``check_storage`` a data
    directory in RAM (an overlay root, a tmpfs) is a fault of the room (controller/storage.py)."""
    room = Controller(cfg, adapters, store, clock)
    if check_storage:
        in_ram = volatile(cfg.data_dir)
        room.set_system_check(STORAGE_CHECK, not in_ram, "system.storage_volatile" if in_ram else "system.storage_ok",
                              detail=f"{cfg.data_dir} is on {in_ram}" if in_ram else "")
    guard = None
    if clock_probe is not None:   # started before the lifecycle: it plans knowing whether time is true
        guard = ClockGuard(room, clock_probe)
        room.attach(guard)
    life = Lifecycle(room, lifecycle_settings, calls=calls, pin_factory=pin_factory)
    if guard is not None:
        life.watch_clock(guard)
    room.attach(life, life.commands())
    watch = HearingWatch(room, life.report, life.degradation.call_quality, life.quality.limits)
    room.attach(_Stops(watch.stop))
    room.lifecycle, room.watch = life, watch
    return room
