"""The room's outputs and input: the status light (ready | warning | fault | suspended), the
buzzer (an open fault nobody is fixing yet) and the self-test button."""
from __future__ import annotations

from vksroom.controller.lifecycle.base import Parts, log
from vksroom.controller.model import RoomState


class Outputs:
    def __init__(self, parts: Parts, life):
        self.p = parts
        self.life = life

    def status(self) -> str:
        """The status light: ready | warning | fault | suspended."""
        if self.life.planner.suspended:
            return "suspended"
        alarms = self.life.incidents.alarms()
        if any(a["level"] == "fault" for a in alarms):
            return "fault"
        state = self.p.room.readiness().state
        if alarms or self.life.aid.busy() or self.life.degradation.any_break() \
                or state in (RoomState.NOT_READY, RoomState.DEGRADED, RoomState.UNKNOWN):
            return "warning"
        return "ready"

    def show(self) -> None:
        gpio = self.life.gpio
        with self.p.lock:
            status = self.status()
            buzz = any(a["level"] == "fault" and a["state"] == "open" for a in self.life.incidents.alarms())
            if status != gpio.status:
                gpio.show(status)
            if buzz != gpio.buzzing:
                gpio.buzz(buzz)

    def button(self) -> None:
        try:
            self.p.room.run_selftest("button")
        except ValueError as exc:
            log.warning("self-test button: %s", exc)
