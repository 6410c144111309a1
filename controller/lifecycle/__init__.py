"""The hearing lifecycle: the planner that turns the schedule into tests, alarms and records.

One :class:`Lifecycle` per room, built of parts with one job each:

* :mod:`.planner` — timers from the schedule: the 24 h test-session warning (item 13), the
  self-test before T-30 min (15), the hearing under way, connection and reconnection (15, 22),
  suspension (24);
* :mod:`.incidents` — one alarm per device and cause from the room state, the watch and the
  planner; recovered by itself; the technician's marks (14, 16, 17);
* :mod:`.first_aid` — a lost device with a relay is power-cycled once before its fault stands;
* :mod:`.calls` — dialling and hanging up through the codec;
* :mod:`.degradation` — the in-hearing watch and the technical break (22);
* :mod:`.sessions` — test sessions with the far side (13);
* :mod:`.record` — the hearing record (21) and the act's facts (18);
* :mod:`.outputs` — the status light, the buzzer and the button.

Threads: timer callbacks run on the clock's thread (in tests: the thread that advances the
manual clock), event handlers on the room thread, panel calls on request threads. The parts
share one lock that is never held while waiting for a device or the room thread.
"""
from __future__ import annotations

from typing import Callable

from vksroom.controller.texts import Refused, say
from vksroom.controller import events as ev
from vksroom.controller.clock import Clock, RealClock
from vksroom.controller.config import DEFAULT_ROLES
from vksroom.controller.gpio import NoGpio, configured, open_gpio
from vksroom.controller.ledger import Ledger
from vksroom.controller.lifecycle.base import LifecycleSettings, Parts
from vksroom.controller.lifecycle.calls import CallControl, CodecCalls, Dialler, codec_calls, normalise_call_state
from vksroom.controller.lifecycle.degradation import Degradation
from vksroom.controller.lifecycle.first_aid import FirstAid
from vksroom.controller.lifecycle.incidents import MARKS, OPEN_STATES, Incidents
from vksroom.controller.lifecycle.outputs import Outputs
from vksroom.controller.lifecycle.planner import Planner
from vksroom.controller.lifecycle.record import RECORD_KINDS, Record
from vksroom.controller.lifecycle.sessions import Sessions
from vksroom.controller.quality import QualityLog
from vksroom.controller.model import ONLINE_CHECK, CheckResult, RoomState
from vksroom.controller.schedule import Hearing, Schedule

__all__ = ["Lifecycle", "LifecycleSettings", "CallControl", "CodecCalls", "normalise_call_state", "MARKS",
           "OPEN_STATES", "RECORD_KINDS"]


class Lifecycle:
    def __init__(self, room, settings: LifecycleSettings | None = None, calls: CallControl | None = None,
                 pin_factory=None):
        self.room = room
        self.cfg = room.cfg
        self.settings = settings or LifecycleSettings.from_config(room.cfg.lifecycle)
        self.clock: Clock = room.clock if isinstance(room.clock, Clock) else RealClock(room.clock)
        self._own_clock = not isinstance(room.clock, Clock)
        self._pin_factory = pin_factory
        self.parts = Parts(room, self.clock, self.settings)
        roles = sorted({r for d in self.cfg.devices_of("camera") for r in d.options.get("presets", {})})
        self.schedule = Schedule(room.store, self.clock, tuple(roles) or DEFAULT_ROLES, self.cfg.timezone)
        self.ledger = Ledger(room.store, self.clock)
        from vksroom.controller.acts import Acts

        self.acts = Acts(room.store, self.clock, self.cfg)
        self.gpio = NoGpio()          # the room's pins from start()
        self.dialler = Dialler(self.parts, calls if calls is not None else codec_calls(room))
        self.planner = Planner(self.parts, self)
        self.incidents = Incidents(self.parts, self)
        self.aid = FirstAid(self.parts, self)
        self.quality = QualityLog(self.settings.quality)     # call figures over the call (item 22)
        self.degradation = Degradation(self.parts, self)
        self.sessions = Sessions(self.parts, self)
        self.history = Record(self.parts, self)
        self.outputs = Outputs(self.parts, self)
        self._unsubscribe = None
        self.clock_guard = None       # a ClockGuard when the room watches the system clock
        self.clock.on_step(self._clock_stepped)

    def watch_clock(self, guard) -> None:
        """Follow a :class:`~vksroom.controller.timesync.ClockGuard`: while the system clock is not
        synchronised the planner holds what the hearing times trigger and the room log marks its
        rows; once it is, everything is planned again from the true time."""
        self.clock_guard = guard
        self.parts.clock_true = lambda: guard.synchronised is not False
        guard.on_change(self._clock_synchronised)

    def _clock_synchronised(self, synced: bool) -> None:
        if synced and self.started:
            self.planner.replan_after_clock("synchronised")

    def _clock_stepped(self, expected: float, now: float, skipped: list) -> None:
        self.parts.log("clock.stepped", None, detail={"from": expected, "to": now, "skipped": [t.name for t in skipped]})
        if self.started:
            self.planner.replan_after_clock("stepped")

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> None:
        self.gpio = open_gpio(self.cfg.gpio, self._pin_factory)
        if configured(self.cfg.gpio):   # pins the room relies on (first aid by relay): their state is its own
            failed = self.gpio.error
            self.room.set_system_check("gpio", not failed, "system.gpio_unavailable" if failed else "system.gpio_ok",
                                       detail=failed)
        self.gpio.on_button(self.outputs.button)
        for sid in self.ledger.abort_running(say("session.restarted")):   # its notes, read on the hearing page
            self.parts.log("test_session.aborted", None, detail={"session": sid})
        self.incidents.load()
        self._unsubscribe = self.room.events.subscribe(self._on_event)
        self.planner.started = True
        for h in self.schedule.hearings():
            self.planner.plan(h)
        self.planner.resume()
        self.outputs.show()

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.planner.stop()
        self.aid.stop()
        self.degradation.stop()
        self.dialler.stop()
        if self._own_clock:
            self.clock.stop()
        self.gpio.close()

    @property
    def started(self) -> bool:
        return self.planner.started

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds (checked on every planner change); for tests and the CLI."""
        with self.parts.changed:
            return self.parts.changed.wait_for(predicate, timeout)

    # -- room events ---------------------------------------------------------------------------

    def _on_event(self, event: ev.Event) -> None:
        # The reaction to a device's fault or return announces events of its own (first aid,
        # alarms): it runs right after this event has reached every follower, not nested inside
        # its delivery, where followers subscribed after the lifecycle (the MQTT link) would get
        # the reaction before its cause.
        data, after = event.data, self.parts.after_event
        online = isinstance(data, dict) and data.get("check", ONLINE_CHECK) == ONLINE_CHECK
        if event.kind == ev.DEVICE_FAULT and online:
            after(self.aid.device_lost, data["device"], data.get("detail", ""))
        elif event.kind == ev.DEVICE_RECOVERED and online:
            after(self.aid.device_back, data["device"])
        elif event.kind == ev.READINESS:
            suspended = data["state"] == RoomState.SUSPENDED.value
            reason = "; ".join(data.get("reasons", [])) if suspended else None
            if bool(reason) != bool(self.planner.suspended):
                self.planner.suspension(reason)
            after(self.incidents.reconcile, data)
            self.outputs.show()
        self.parts.notify()   # waiters in wait_for() see every room event too

    # -- commands (from MQTT and the panel) --------------------------------------------------

    def commands(self) -> dict[str, Callable[[dict], dict]]:
        """The handlers of the commands controller/commands.py declares on the lifecycle; their
        arguments arrive checked against the declaration. A command always comes from the centre:
        the panel calls the lifecycle itself (as ``source="panel"``)."""
        return {
            "hearing.create": lambda a: self.change_schedule("create", a, "centre"),
            "hearing.update": lambda a: self.change_schedule("update", a, "centre"),
            "hearing.cancel": lambda a: self.change_schedule("cancel", a, "centre"),
            "farside.set": lambda a: self.schedule.set_far_side(a).to_dict(),
            "fault.mark": lambda a: self.mark(a["alarm_id"], a["mark"], a["by"], a.get("note", "")),
        }

    def change_schedule(self, action: str, doc, source: str = "centre") -> dict:
        return self.planner.change(action, doc, source)

    # -- the act (item 18) ---------------------------------------------------------------------

    def facts(self, hid: str, other_reason: str = "") -> dict:
        return self.history.facts(hid, other_reason)

    def draw_up_act(self, hid: str, who: str = "", other_reason: str = "") -> dict:
        """Draft the act. With no fault on record it needs the secretary's written reason:
        item 18 also covers a delay "for other reasons", but an act must say why."""
        if not isinstance(other_reason, str) or len(other_reason) > 2000:
            raise Refused("refused.text_too_long")
        facts = self.facts(hid, other_reason)
        if not facts["failures"] and not facts["other_reason"]:
            raise Refused("refused.act_needs_reason")
        act = self.acts.draft(hid, facts, who)
        self.parts.log("act.created", hid, who, {"act": act["id"]})
        self.parts.publish(ev.ACT_CREATED, {"act_id": act["id"], "hearing_id": hid, "facts": facts})
        self.parts.notify()
        return act

    # -- what the panel, MQTT and tests use ----------------------------------------------------

    def hearing(self, hid, allow_cancelled: bool = False) -> Hearing:
        h = self.schedule.get(hid) if isinstance(hid, str) else None
        if h is None:
            raise Refused("refused.no_hearing")
        if h.status != "scheduled" and not allow_cancelled:
            raise Refused("refused.hearing_cancelled")
        return h

    def selftest_at(self, h: Hearing) -> float:
        return self.planner.selftest_at(h)

    def planned(self) -> list[tuple[float, str]]:
        return self.planner.planned()

    def on_hearing(self) -> str | None:
        return self.planner.on

    def connected(self, hid: str) -> bool:
        return self.planner.connected(hid)

    def connect(self, hid: str, who: str) -> dict:
        return self.planner.connect(hid, who)

    def reconnect(self, hid: str, who: str) -> dict:
        return self.planner.reconnect(hid, who)

    def end(self, hid: str, who: str) -> None:
        self.planner.end(hid, who)

    @property
    def suspended(self) -> str | None:
        return self.planner.suspended

    def report(self, results: list[CheckResult]) -> None:
        self.degradation.report(results)

    def call_quality(self) -> dict[str, dict]:
        """Each codec's latest call figures and their series over the call (time, loss %, fps)."""
        latest = self.quality.latest()
        return {d: {"latest": q, "series": self.quality.series(d)} for d, q in latest.items()}

    def break_recommended(self, hid: str) -> dict | None:
        return self.degradation.break_for(hid)

    def run_test_session(self, hid: str, technician: str) -> int:
        return self.sessions.run(hid, technician)

    def start_test_session(self, hid: str, technician: str) -> int:
        """Begin a test session and return at once; ``running_session()`` follows its steps."""
        return self.sessions.start(hid, technician)

    def record_test_session(self, hid: str, technician: str, result: str, notes: str = "") -> dict:
        return self.sessions.record(hid, technician, result, notes)

    def running_session(self) -> dict | None:
        return self.sessions.running

    def mark(self, alarm_id, mark, who, note: str = "") -> dict:
        return self.incidents.mark(alarm_id, mark, who, note)

    def alarm(self, alarm_id: int) -> dict | None:
        return self.incidents.alarm(alarm_id)

    def alarms(self, open_only: bool = True) -> list[dict]:
        return self.incidents.alarms(open_only)

    def first_aid(self) -> dict:
        return self.aid.snapshot()

    def status(self) -> str:
        return self.outputs.status()

    def record(self, hid: str) -> list[dict]:
        return self.history.rows(hid)

    def export_record(self, hid: str, fmt: str = "json", lang: str | None = None) -> str:
        return self.history.export(hid, fmt, lang)

    def log_entries(self, limit: int = 50, device: str | None = None) -> list[dict]:
        return self.history.entries(limit, device)
