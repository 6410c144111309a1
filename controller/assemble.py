"""One room, assembled: the controller (owner of room state and devices), the hearing
lifecycle built on it, and the in-hearing watch. The entry module (``app.py``) and the
tests build rooms here; a bare :class:`Controller` (a stand-alone self-test) has neither."""
from __future__ import annotations

import time
from typing import Callable

from vksroom.controller.config import RoomConfig
from vksroom.controller.lifecycle import Lifecycle, LifecycleSettings
from vksroom.controller.room import Controller
from vksroom.controller.watch import HearingWatch


class _Stops:
    """A service that only needs stopping (the watch starts with each hearing)."""

    def __init__(self, stop: Callable[[], None]):
        self.stop = stop

    def start(self) -> None:
        pass


def build_room(cfg: RoomConfig, adapters=None, store=None, clock: Callable[[], float] = time.time,
               lifecycle_settings: LifecycleSettings | None = None, pin_factory=None, calls=None) -> Controller:
    """The room with its lifecycle (``room.lifecycle``) and watch (``room.watch``); GPIO through
    ``pin_factory`` (gpiozero's; None: the default factory of the machine)."""
    room = Controller(cfg, adapters, store, clock)
    life = Lifecycle(room, lifecycle_settings, calls=calls, pin_factory=pin_factory)
    room.attach(life, life.commands())
    watch = HearingWatch(room, life.report, life.degradation.call_quality, life.quality.limits)
    room.attach(_Stops(watch.stop))
    room.lifecycle, room.watch = life, watch
    return room
