"""The hearing lifecycle: the planner that turns the schedule into tests, alarms and records.

For each hearing of the schedule (rule items in brackets):

* from 24 h before, without a passed test session, the room warns (13): an alarm of level
  ``warning`` (panel banner, yellow light) and the event ``test_session.missing``;
* a self-test is timed to finish before the T-30 min connection window (15); its verdict
  is the room's readiness for that hearing (``hearing.readiness``); it is repeated when a
  fault is fixed before the hearing;
* devices are watched all the time (14): a device that stops answering and has a power
  relay is power-cycled once (first aid, logged) before the fault is declared; a declared
  fault raises an alarm at once (16): red light, buzzer, ``alarm.raised`` with evidence;
* the technician marks an alarm ``fixing`` (silences the buzzer), ``fixed`` or
  ``cannot_be_fixed`` (17), which the centre receives as ``fault.marked``; "cannot be
  fixed" for a hearing draws up the act (18);
* the secretary connects, the room is ``in_hearing`` from the start (or the connection)
  to the end; the connection's start and end, breaks and reconnections are the hearing
  record (21), exportable as CSV or JSON;
* during the hearing the call state, device links and reported frame/level verdicts are
  watched; a degradation lasting longer than its threshold recommends a technical break
  (``break.recommended``) and the panel offers reconnecting (22);
* while VKS is suspended (24) nothing is tested and the light is blue.

Threads: timer callbacks run on the clock's thread (in tests: the thread that advances the
manual clock), event handlers on the room thread, panel calls on request threads. The
planner's memory is guarded by one lock that is never held while waiting for a device or
the room thread.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol

from vksroom.controller import events as ev
from vksroom.controller.clock import Clock, RealClock, Timer
from vksroom.controller.config import DEFAULT_ROLES
from vksroom.controller.gpio import open_gpio
from vksroom.controller.ledger import Ledger
from vksroom.controller.model import ONLINE_CHECK, CheckResult, RoomState
from vksroom.controller.schedule import Change, Hearing, Schedule, ScheduleError, iso_utc

log = logging.getLogger(__name__)

MARKS = ("fixing", "fixed", "cannot_be_fixed")
OPEN_STATES = ("open", "fixing", "cannot_be_fixed")
RECORD_KINDS = ("hearing.started", "connection.dialling", "connection.started", "connection.failed",
                "connection.ended", "break.recommended", "quality.restored", "reconnect.started",
                "reconnect.done", "hearing.ended")
PASSING_STATES = ("camera.booting",)   # not ready yet, but no fault: seen, never an alarm
CHECK_CLASS = {"camera": "video", "dsp": "audio", "codec": "call"}


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


# -- the codec's call, behind a small interface --------------------------------------------------


class CallControl(Protocol):
    def dial(self, number: str) -> None: ...
    def hangup(self) -> None: ...
    def state(self) -> str: ...        # idle | connecting | connected | unknown


def normalise_call_state(raw) -> str:
    text = str(raw or "").strip().lower().replace("_", "").replace("-", "").replace(" ", "")
    if text in ("connected", "active", "incall", "established", "up"):
        return "connected"
    if text in ("idle", "disconnected", "none", "down", "ended", "hungup"):
        return "idle"
    if text in ("connecting", "dialling", "dialing", "ringing", "alerting", "calling", "progress"):
        return "connecting"
    return "unknown"


class CodecCalls:
    """Calls through the room's codec adapter (``dial``/``hangup``/``call_state``), under its lock."""

    def __init__(self, room, device_id: str, timeout: float = 15.0):
        self.room, self.device_id, self.timeout = room, device_id, timeout

    def dial(self, number: str) -> None:
        self.room.run_on(self.device_id, lambda a: a.dial(number), timeout=self.timeout)

    def hangup(self) -> None:
        self.room.run_on(self.device_id, lambda a: a.hangup(), timeout=self.timeout)

    def state(self) -> str:
        return normalise_call_state(self.room.run_on(self.device_id, lambda a: a.call_state(), timeout=self.timeout))


def codec_calls(room) -> CallControl | None:
    codecs = [d.id for d in room.cfg.devices_of("codec") if d.id in room.device_ids()]
    return CodecCalls(room, codecs[0]) if codecs else None


@dataclass
class _Attempt:
    hearing_id: str
    number: str
    purpose: str                  # connect | reconnect | test
    dialled_at: float
    deadline: float
    done: Callable[[bool, dict], None]
    last_state: str = "connecting"
    timer: Timer | None = None


class Lifecycle:
    def __init__(self, room, settings: LifecycleSettings | None = None):
        self.room = room
        self.cfg = room.cfg
        self.settings = settings or LifecycleSettings()
        self.clock: Clock = room.clock if isinstance(room.clock, Clock) else RealClock(room.clock)
        self._own_clock = not isinstance(room.clock, Clock)
        roles = sorted({r for d in self.cfg.devices_of("camera") for r in d.options.get("presets", {})})
        self.schedule = Schedule(room.store, self.clock, tuple(roles) or DEFAULT_ROLES, self.cfg.timezone)
        self.ledger = Ledger(room.store, self.clock)
        self.acts = None            # set by start(): vksroom.controller.acts.Acts
        self.calls: CallControl | None = codec_calls(room)
        self.gpio = None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._timers: dict[str, list[Timer]] = {}
        self._first_aid: dict[str, dict] = {}       # device -> {"at", "timers", "state"}
        self._lost: dict[str, str] = {}              # device -> reason, while not answering
        self._attempt: _Attempt | None = None
        self._on: str | None = None                  # the hearing under way
        self._connected: dict[str, float] = {}       # hearing -> connected at
        self._degraded: dict[tuple, dict] = {}       # (hearing, device, check) -> {"since", "reason"}
        self._break: dict[str, dict] = {}            # hearing -> the recommendation in force
        self._session: dict | None = None            # the test session being run
        self._suspended: str | None = None
        self._alarms: list[dict] = []
        self._unsubscribe = None
        self._watch: Timer | None = None
        self.started = False

    # -- starting and stopping ---------------------------------------------------------------

    def start(self) -> None:
        from vksroom.controller.acts import Acts

        self.acts = Acts(self.room.store, self.clock, self.cfg)
        self.gpio = open_gpio(self.cfg.gpio)
        self.gpio.on_button(self._button)
        aborted = self.ledger.abort_running("the room controller restarted during the session")
        for sid in aborted:
            self._log("test_session.aborted", None, detail={"session": sid})
        self._reload_alarms()
        self._unsubscribe = self.room.events.subscribe(self._on_event)
        self.started = True
        for h in self.schedule.hearings():
            self._plan(h)
        self._resume_hearing()
        self._outputs()

    def stop(self) -> None:
        self.started = False
        if self._unsubscribe:
            self._unsubscribe()
        with self._lock:
            for timers in self._timers.values():
                for t in timers:
                    t.cancel()
            self._timers.clear()
            for fa in self._first_aid.values():
                for t in fa.get("timers", ()):
                    t.cancel()
            if self._watch:
                self._watch.cancel()
            if self._attempt and self._attempt.timer:
                self._attempt.timer.cancel()
        if self._own_clock:
            self.clock.stop()
        if self.gpio is not None:
            self.gpio.close()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate()`` holds (checked on every planner change); for tests and the CLI."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- commands (from MQTT and the panel) --------------------------------------------------

    def commands(self) -> dict[str, Callable[[dict], dict]]:
        return {
            "hearing.create": lambda a: self.change_schedule("create", a, a.pop("source", "centre")),
            "hearing.update": lambda a: self.change_schedule("update", a, a.pop("source", "centre")),
            "hearing.cancel": lambda a: self.change_schedule("cancel", a, a.pop("source", "centre")),
            "farside.set": lambda a: self.schedule.set_far_side(a).to_dict(),
            "fault.mark": lambda a: self.mark(a.get("alarm_id"), a.get("mark"), a.get("by"), a.get("note", "")),
        }

    def change_schedule(self, action: str, doc, source: str = "centre") -> dict:
        """Apply a schedule message and re-plan. Raises ScheduleError (a ValueError) when refused."""
        before = self.schedule.get(doc.get("id")) if isinstance(doc, dict) and isinstance(doc.get("id"), str) else None
        try:
            change: Change = getattr(self.schedule, action)(doc, source)
        except ScheduleError as exc:
            self._publish(ev.HEARING_REJECTED, {"hearing_id": exc.hearing_id, "action": action, "source": source,
                                                "errors": exc.errors})
            raise
        if change.applied:
            if change.outcome == "cancelled":
                self._publish(ev.HEARING_CANCELLED, {"hearing_id": change.hearing_id, "version": change.version})
                self._close_hearing(change.hearing_id, "cancelled")
            else:
                h = change.hearing
                if before is not None and before.start != h.start:
                    self.schedule.store.execute("UPDATE hearings SET readiness=NULL WHERE id=?", (h.id,))
                    self._clear_alarms(hearing_id=h.id, why="the hearing was moved")
                kind = ev.HEARING_CREATED if change.outcome == "created" else ev.HEARING_UPDATED
                self._publish(kind, {"hearing": h.to_dict(), "conflicts": list(change.conflicts)})
                if change.conflicts:
                    self._publish(ev.HEARING_CONFLICT, {"hearing_id": h.id, "conflicts": list(change.conflicts),
                                                        "detail": change.detail})
                self._plan(h)
        self._notify()
        return change.to_dict()

    # -- planning ----------------------------------------------------------------------------

    def selftest_at(self, h: Hearing) -> float:
        """When the pre-hearing self-test starts: its whole deadline plus a margin before T-30 min."""
        return h.start - self.settings.connect_window_s - self.cfg.selftest.check_timeout_s \
            - self.settings.selftest_margin_s

    def _plan(self, h: Hearing) -> None:
        if not self.started:
            return
        now = self.clock.now()
        with self._lock:
            for t in self._timers.pop(h.id, []):
                t.cancel()
            if h.status != "scheduled" or h.end <= now or self._ended(h.id):
                return
            timers = []
            if now < h.start:
                timers.append(self.clock.call_at(max(now, h.start - self.settings.warn_before_s),
                                                 self._check_test_session, h.id, name=f"warn-{h.id}"))
                done = self.schedule.readiness_for(h.id)
                if not done or done.get("at", 0) < self.selftest_at(h):
                    timers.append(self.clock.call_at(max(now, self.selftest_at(h)), self._pre_hearing_selftest,
                                                     h.id, "schedule", name=f"selftest-{h.id}"))
            timers.append(self.clock.call_at(max(now, h.start), self._hearing_start, h.id, name=f"start-{h.id}"))
            timers.append(self.clock.call_at(h.end, self._hearing_end, h.id, "scheduled end", name=f"end-{h.id}"))
            self._timers[h.id] = timers

    def planned(self) -> list[tuple[float, str]]:
        with self._lock:
            return sorted((t.when, t.name) for ts in self._timers.values() for t in ts if t.active)

    def _check_test_session(self, hid: str) -> None:
        h = self.schedule.get(hid)
        if h is None or h.status != "scheduled" or self.ledger.passed(hid):
            return
        hours = max(0.0, (h.start - self.clock.now()) / 3600)
        self._raise_alarm(f"test_session:{hid}", "warning", f"no passed test session for hearing {hid} "
                          f"(case {h.case_number}) {hours:.1f} h before its start",
                          "test_session.missing", {"case": h.case_number, "hours": round(hours, 1)}, {},
                          hearing_id=hid)
        self._publish(ev.TEST_SESSION_MISSING, {"hearing_id": hid, "case_number": h.case_number,
                                                "start": iso_utc(h.start), "hours_left": round(hours, 1)})

    def _pre_hearing_selftest(self, hid: str, trigger: str) -> None:
        h = self.schedule.get(hid)
        if h is None or h.status != "scheduled" or self._ended(hid):
            return
        if self._suspended:
            self._log("selftest.skipped", hid, detail={"reason": f"VKS suspended: {self._suspended}"})
            return
        other = self.schedule.get(self._on) if self._on and self._on != hid else None
        if other is not None:   # a test recalls presets: not in another hearing; right after it instead
            self._log("selftest.postponed", hid, detail={"until": iso_utc(other.end), "hearing": other.id})
            with self._lock:
                self._timers.setdefault(hid, []).append(self.clock.call_at(
                    other.end, self._pre_hearing_selftest, hid, trigger, name=f"selftest-{hid}"))
            return
        try:
            run = self.room.selftest(trigger, timeout=self.cfg.selftest.check_timeout_s + 10)
        except (ValueError, TimeoutError) as exc:
            self._log("selftest.skipped", hid, detail={"reason": str(exc)})
            return
        readiness = {"run_id": run["run_id"], "state": run["state"], "reasons": run["reasons"],
                     "at": self.clock.now(), "trigger": trigger}
        self.schedule.set_readiness(hid, readiness)
        self._log("selftest.done", hid, detail=readiness)
        # A failing device opens its own alarms from the room state (see _reconcile).
        self._publish(ev.HEARING_READINESS, {"hearing_id": hid, **readiness})
        self._notify()

    def _repeat_selftests(self, why: str) -> None:
        """A fault was fixed: run again the self-test of a hearing whose self-test already ran."""
        now = self.clock.now()
        for h in self.schedule.hearings(since=now):
            if h.start > now and not self._ended(h.id) and self._on != h.id and self.schedule.readiness_for(h.id):
                self._log("selftest.repeat", h.id, detail={"why": why})
                with self._lock:
                    self._timers.setdefault(h.id, []).append(
                        self.clock.call_at(now, self._pre_hearing_selftest, h.id, "repeat", name=f"repeat-{h.id}"))
                return

    # -- the hearing under way -----------------------------------------------------------------

    def _hearing_start(self, hid: str) -> None:
        h = self.schedule.get(hid)
        if h is None or self._ended(hid) or self._on == hid:
            return
        if self.acts is not None and self.acts.for_hearing(hid):
            self._log("hearing.no_vks", hid, detail={"reason": "an act on the absence of technical possibility "
                                                               "was drawn up"})
            return
        self._begin(h)

    def _begin(self, h: Hearing) -> None:
        with self._lock:
            if self._on == h.id:
                return
            self._on = h.id
        self.room.set_hearing(h.id)
        self._log("hearing.started", h.id, detail={"case": h.case_number})
        self._publish(ev.HEARING_STARTED, {"hearing_id": h.id, "case_number": h.case_number})
        self._schedule_watch()
        self._notify()

    def _hearing_end(self, hid: str, reason: str, who: str = "") -> None:
        with self._lock:
            was_on = self._on == hid
            if was_on:
                self._on = None
                if self._watch:
                    self._watch.cancel()
            connected = self._connected.pop(hid, None)
            self._break.pop(hid, None)
            for key in [k for k in self._degraded if k[0] == hid]:
                del self._degraded[key]
        if connected is not None:
            self._hangup(hid, "hearing ended")
        self._outputs()
        if was_on or connected is not None:
            self.room.set_hearing(None)
            self._log("hearing.ended", hid, who, {"reason": reason})
            self._publish(ev.HEARING_ENDED, {"hearing_id": hid, "reason": reason})
        self._close_hearing(hid, reason)

    def _close_hearing(self, hid: str, reason: str) -> None:
        with self._lock:
            for t in self._timers.pop(hid, []):
                t.cancel()
        if self._on == hid:
            self._hearing_end(hid, reason)
            return
        self._clear_alarms(hearing_id=hid, why=f"hearing {reason}")
        self._notify()

    def _ended(self, hid: str) -> bool:
        return bool(self.room.store.query("SELECT 1 FROM room_log WHERE hearing_id=? AND kind='hearing.ended'", (hid,)))

    def _resume_hearing(self) -> None:
        """After a restart: a hearing under way (started, not ended) is under way again."""
        now = self.clock.now()
        for h in self.schedule.hearings(since=now):
            if h.start <= now < h.end and not self._ended(h.id):
                kinds = [r["kind"] for r in self.room.store.query(
                    "SELECT kind FROM room_log WHERE hearing_id=? AND kind IN "
                    "('connection.started','connection.ended') ORDER BY id", (h.id,))]
                if kinds and kinds[-1] == "connection.started":
                    self._connected[h.id] = now
                if any(r["kind"] == "hearing.started" for r in self.room.store.query(
                        "SELECT kind FROM room_log WHERE hearing_id=?", (h.id,))):
                    with self._lock:
                        self._on = h.id
                    self.room.set_hearing(h.id)
                    self._schedule_watch()

    def end(self, hid: str, who: str) -> None:
        """The secretary ends the hearing (hangs up)."""
        self._hearing(hid)
        self._hearing_end(hid, "ended by the secretary", who)

    def connect(self, hid: str, who: str) -> dict:
        """The secretary connects to the far side (item 15). Dials; the answer comes on the clock."""
        h = self._hearing(hid)
        self._not_suspended()
        if self.calls is None:
            raise ValueError("this room has no codec to call with")
        if hid in self._connected:
            raise ValueError(f"hearing {hid} is already connected")
        self._log("connection.dialling", hid, who, {"number": h.far_side.number})
        self._dial(hid, h.far_side.number, "connect", lambda ok, info: self._connect_done(h, who, ok, info))
        return {"hearing_id": hid, "number": h.far_side.number, "state": "connecting"}

    def _connect_done(self, h: Hearing, who: str, ok: bool, info: dict) -> None:
        if ok:
            with self._lock:
                self._connected[h.id] = self.clock.now()
            self._log("connection.started", h.id, who, info)
            self._publish(ev.HEARING_CONNECTION, _connection(h.id, "started", info))
            self._clear_alarms(key=f"call:{h.id}", why="the far side answered")
            self._begin(h)
            return
        self._log("connection.failed", h.id, who, info)
        self._publish(ev.HEARING_CONNECTION, _connection(h.id, "failed", info))
        self._raise_alarm(f"call:{h.id}", "fault",
                          f"{h.far_side.name} ({info['number']}) did not answer within {info['waited_s']:.0f} s",
                          "call.no_answer", {"far_side": h.far_side.name, "number": info["number"],
                                             "seconds": round(info["waited_s"])}, info, hearing_id=h.id)

    def reconnect(self, hid: str, who: str) -> dict:
        """Drop and redial the far side (item 22); logged in the hearing record."""
        h = self._hearing(hid)
        self._not_suspended()
        if self.calls is None:
            raise ValueError("this room has no codec to call with")
        if self._on != hid and hid not in self._connected:
            raise ValueError(f"hearing {hid} is not under way; connect it first")
        recommended = self._break.get(hid)
        self._log("reconnect.started", hid, who, {"break": recommended})
        with self._lock:
            self._connected.pop(hid, None)
            self._break.pop(hid, None)
            for key in [k for k in self._degraded if k[0] == hid]:
                del self._degraded[key]
        self._outputs()
        self._hangup(hid, "reconnect")

        def done(ok: bool, info: dict) -> None:
            if ok:
                with self._lock:
                    self._connected[hid] = self.clock.now()
                self._log("connection.started", hid, who, info)
                self._log("reconnect.done", hid, who, info)
                self._publish(ev.HEARING_CONNECTION, {**_connection(hid, "started", info), "reconnect": True})
            else:
                self._connect_done(h, who, False, info)

        self._dial(hid, h.far_side.number, "reconnect", done)
        return {"hearing_id": hid, "state": "connecting"}

    def _hangup(self, hid: str, reason: str) -> None:
        try:
            if self.calls is not None:
                self.calls.hangup()
        except Exception as exc:
            log.warning("hang-up failed: %s", exc)
        self._log("connection.ended", hid, detail={"reason": reason})
        self._publish(ev.HEARING_CONNECTION, {"hearing_id": hid, "state": "ended", "reason": reason})

    def _dial(self, hid: str, number: str, purpose: str, done: Callable[[bool, dict], None]) -> None:
        now = self.clock.now()
        with self._lock:
            if self._attempt is not None:
                raise ValueError(f"a call to {self._attempt.number} is being set up; wait for it")
            attempt = _Attempt(hid, number, purpose, now, now + self.settings.call_timeout_s, done)
            self._attempt = attempt
        try:
            self.calls.dial(number)
        except Exception as exc:
            attempt.last_state = f"dial failed: {exc}"
            self._finish_attempt(attempt, False)
            return
        self._poll_call(attempt, first=True)

    def _poll_call(self, attempt: _Attempt, first: bool = False) -> None:
        if not first:
            try:
                attempt.last_state = self.calls.state()
            except Exception as exc:
                attempt.last_state = f"unknown: {exc}"
            if attempt.last_state == "connected":
                self._finish_attempt(attempt, True)
                return
            if self.clock.now() >= attempt.deadline:
                self._finish_attempt(attempt, False)
                return
        when = min(attempt.deadline, self.clock.now() + self.settings.call_poll_s)
        attempt.timer = self.clock.call_at(when, self._poll_call, attempt, name=f"call-{attempt.hearing_id}")

    def _finish_attempt(self, attempt: _Attempt, ok: bool) -> None:
        with self._lock:
            if self._attempt is attempt:
                self._attempt = None
        now = self.clock.now()
        info = {"number": attempt.number, "purpose": attempt.purpose, "dialled_at": iso_utc(attempt.dialled_at),
                "waited_s": now - attempt.dialled_at, "state": attempt.last_state}
        if ok:
            info["connected_at"] = iso_utc(now)
        else:
            try:
                self.calls.hangup()   # stop ringing the far side
            except Exception:
                pass
        attempt.done(ok, info)
        self._notify()

    # -- in-hearing watch -----------------------------------------------------------------------

    def _schedule_watch(self) -> None:
        with self._lock:
            if self._watch:
                self._watch.cancel()
            self._watch = self.clock.call_later(self.settings.watch_interval_s, self._watch_tick, name="watch")

    def _watch_tick(self) -> None:
        hid = self._on
        if hid is None:
            return
        if hid in self._connected and self.calls is not None and self._attempt is None:
            try:
                state, detail = self.calls.state(), ""
            except Exception as exc:
                state, detail = "unknown", str(exc)
            h = self.schedule.get(hid)
            self._sample(hid, self._codec_id(), "call", state == "connected", "call.dropped",
                         {"far_side": h.far_side.name if h else ""}, {"call_state": state, "detail": detail})
        for d in self.room.readiness().devices:
            link = next((c for c in d.checks if c.check == ONLINE_CHECK), None)
            if link is not None:   # the link's own incident comes from the room state: no second alarm
                self._sample(hid, d.id, "link", link.ok, link.code, link.params, {"detail": link.detail},
                             alarm=False)
        self._schedule_watch()

    def report(self, results: list[CheckResult]) -> None:
        """Frame verdicts, microphone levels... from the device stacks, as check results."""
        hid = self._on
        for r in results:
            self._sample(hid, r.device, r.check, r.ok, r.code, r.params, {"value": r.value, "detail": r.detail})

    def _sample(self, hid, device: str, check: str, ok: bool, code: str, params: dict, evidence: dict,
                alarm: bool = True) -> None:
        """One observation of the watch. A failure that lasts past its threshold opens the
        device's alarm for that cause (and, in a hearing, recommends a technical break); the
        alarm closes as recovered when the check passes again."""
        key = (hid, device, check)
        now = self.clock.now()
        if ok:
            with self._lock:
                gone = self._degraded.pop(key, None)
                if gone and hid and not any(k[0] == hid for k in self._degraded) and hid in self._break:
                    self._log("quality.restored", hid, detail={"device": device, "check": check})
                incident = next((a for a in self._alarms if a["key"] == f"watch:{device}:{check}"), None)
            if gone and incident is not None:   # outside the lock: announcing waits for the room thread
                self._recovered(incident, "the check passes again")
            return
        with self._lock:
            bad = self._degraded.setdefault(key, {"since": now, "reported": False})
            bad["code"], bad["params"], bad["evidence"] = code, params, evidence
            lasted = now - bad["since"]
            if lasted < self._threshold(device, check) or bad["reported"]:
                return
            bad["reported"] = True
        detail = {"device": device, "check": check, "code": code, "params": params, "seconds": round(lasted),
                  "since": iso_utc(bad["since"]), "evidence": evidence}
        if alarm:
            dcfg = self.cfg.devices.get(device)
            self._raise_alarm(f"watch:{device}:{check}", "fault" if dcfg is None or dcfg.required else "warning",
                              code, code, {"device": dcfg.label if dcfg else device, **params}, detail,
                              hearing_id=hid, device=device, first_seen=bad["since"])
        if hid is None:
            return
        with self._lock:
            first = hid not in self._break
            self._break.setdefault(hid, detail)
        if first:
            self._log("break.recommended", hid, detail=detail)
            self._publish(ev.BREAK_RECOMMENDED, {"hearing_id": hid, **detail})
            self._outputs()
            self._notify()

    def _threshold(self, device: str, check: str) -> float:
        limits = self.settings.degrade_after_s
        if check in ("call", "link"):
            return limits.get(check, 15.0)
        dcfg = self.cfg.devices.get(device)
        return limits.get(CHECK_CLASS.get(dcfg.type if dcfg else "", ""), limits.get("video", 20.0))

    def break_recommended(self, hid: str) -> dict | None:
        return self._break.get(hid)

    def _codec_id(self) -> str:
        return getattr(self.calls, "device_id", "codec")

    # -- test sessions (item 13) -------------------------------------------------------------

    def run_test_session(self, hid: str, technician: str) -> int:
        """The technician's test session with the far side: every device check and a test call."""
        h = self._hearing(hid)
        self._not_suspended()
        with self._lock:
            if self._session is not None:
                raise ValueError(f"test session {self._session['id']} is still running")
            sid = self.ledger.begin(hid, technician, h.far_side.to_dict())
            self._session = {"id": sid, "hearing_id": hid}
        self._log("test_session.started", hid, technician, {"session": sid})
        try:
            run = self.room.selftest("test-session")
        except (ValueError, TimeoutError) as exc:
            self._finish_session(sid, hid, None, {"state": f"not called: {exc}"})
            return sid
        if self.calls is None:
            self._finish_session(sid, hid, run, {"state": "no codec in this room"})
            return sid

        def called(ok: bool, info: dict) -> None:
            if ok:
                def hang():
                    self._hangup_quiet()
                    info["held_s"] = self.settings.test_call_hold_s
                    self._finish_session(sid, hid, run, info, True)
                self.clock.call_later(self.settings.test_call_hold_s, hang, name=f"test-call-{sid}")
            else:
                self._finish_session(sid, hid, run, info, False)

        try:
            self._dial(hid, h.far_side.number, "test", called)
        except ValueError as exc:
            self._finish_session(sid, hid, run, {"state": str(exc)})
        return sid

    def _hangup_quiet(self) -> None:
        try:
            self.calls.hangup()
        except Exception as exc:
            log.warning("hang-up after the test call failed: %s", exc)

    def _finish_session(self, sid: int, hid: str, run: dict | None, call: dict, connected: bool = False) -> None:
        results = self.room.store.results(run["run_id"]) if run else []
        checks = [{"device": r.device, **r.to_dict()} for r in results]
        evidence = {
            "selftest_run": run["run_id"] if run else None,
            "snapshots": [r.params["snapshot"] for r in results if isinstance(r.params, dict) and r.params.get("snapshot")],
            "meters": {f"{r.device}.{r.check}": r.value for r in results if isinstance(r.value, (int, float))
                       and not isinstance(r.value, bool)},
            "call_seconds": round(call.get("waited_s", 0), 1) if connected else None,
        }
        devices_ok = bool(run) and run["state"] in (RoomState.READY.value, RoomState.DEGRADED.value)
        result = "passed" if devices_ok and connected else "failed"
        notes = "" if result == "passed" else "; ".join(
            ([] if devices_ok else ["devices: " + ("; ".join(run["reasons"]) if run else "not checked")])
            + ([] if connected else [f"far side: {call.get('state', 'no answer')}"]))
        with self._lock:
            if self._session and self._session["id"] == sid:
                self._session = None
        try:
            session = self.ledger.finish(sid, result, checks, call, evidence, notes)
        except ValueError:   # aborted meanwhile (suspension)
            return
        self._session_recorded(session)

    def record_test_session(self, hid: str, technician: str, result: str, notes: str = "") -> dict:
        """A test session held by other means, recorded by the technician."""
        h = self._hearing(hid)
        session = self.ledger.record(hid, technician, h.far_side.to_dict(), result, notes, {"entered": "panel"})
        self._session_recorded(session)
        return session.to_dict()

    def _session_recorded(self, session) -> None:
        self._log("test_session.recorded", session.hearing_id, session.technician,
                  {"session": session.id, "result": session.result})
        self._publish(ev.TEST_SESSION_RECORDED, {"hearing_id": session.hearing_id, "session": session.to_dict()})
        if session.passed:
            self._clear_alarms(key=f"test_session:{session.hearing_id}", why="a test session passed")
        self._notify()

    def running_session(self) -> dict | None:
        return self._session

    # -- devices: monitoring, first aid, alarms (items 14, 16, 17) ------------------------------

    def _on_event(self, event: ev.Event) -> None:
        # The reaction to a device's fault or return announces events of its own (first aid,
        # alarms): it runs right after this event has reached every follower, not nested inside
        # its delivery, where followers subscribed after the lifecycle (the MQTT link) would get
        # the reaction before its cause.
        online = event.data.get("check", ONLINE_CHECK) == ONLINE_CHECK if isinstance(event.data, dict) else False
        if event.kind == ev.DEVICE_FAULT and online:
            self._on_room_thread(self._device_lost, event.data["device"], event.data.get("detail", ""))
        elif event.kind == ev.DEVICE_RECOVERED and online:
            self._on_room_thread(self._device_back, event.data["device"])
        elif event.kind == ev.READINESS:
            suspended = event.data["state"] == RoomState.SUSPENDED.value
            reason = "; ".join(event.data.get("reasons", [])) if suspended else None
            if bool(reason) != bool(self._suspended):
                self._suspension(reason)
            self._on_room_thread(self._reconcile, event.data)
            self._outputs()
        self._notify()   # waiters in wait_for() see every room event too

    def _device_lost(self, dev: str, reason: str) -> None:
        now = self.clock.now()
        with self._lock:
            self._lost[dev] = reason
            fa = self._first_aid.get(dev)
            recently = fa is not None and now - fa["at"] < self.settings.first_aid_cooldown_s
            can = self.gpio is not None and self.gpio.has_relay(dev) and not recently and not self._suspended
            if can:
                self._first_aid[dev] = {"at": now, "state": "power_off", "reason": reason, "timers": [
                    self.clock.call_at(now + self.settings.relay_off_s, self._power_back, dev, name=f"relay-{dev}"),
                    self.clock.call_at(now + self.settings.relay_off_s + self.settings.first_aid_wait_s,
                                       self._first_aid_failed, dev, name=f"first-aid-{dev}")]}
        if not can:
            self._declare_device_fault(dev, reason, tried=bool(recently))
            return
        self.gpio.power(dev, False)
        self._log("first_aid.power_off", None, device=dev, detail={"reason": reason})
        self._publish(ev.FIRST_AID, {"device": dev, "action": "power_off", "reason": reason})
        self._outputs()
        self._notify()

    def _power_back(self, dev: str) -> None:
        self.gpio.power(dev, True)
        with self._lock:
            if dev in self._first_aid:
                self._first_aid[dev]["state"] = "power_on"
        self._log("first_aid.power_on", None, device=dev, detail={"off_s": self.settings.relay_off_s})
        self._publish(ev.FIRST_AID, {"device": dev, "action": "power_on"})
        self.room.poke(dev)
        self._notify()

    def _first_aid_failed(self, dev: str) -> None:
        with self._lock:
            fa = self._first_aid.get(dev)
            if fa is None or fa["state"] in ("worked", "failed") or dev not in self._lost:
                return
            fa["state"] = "failed"
        self._log("first_aid.failed", None, device=dev, detail={"waited_s": self.settings.first_aid_wait_s})
        self._publish(ev.FIRST_AID, {"device": dev, "action": "failed"})
        self._declare_device_fault(dev, self._lost.get(dev, ""), tried=True)

    def _device_back(self, dev: str) -> None:
        with self._lock:
            self._lost.pop(dev, None)
            fa = self._first_aid.get(dev)
            worked = fa is not None and fa["state"] in ("power_off", "power_on")
            if worked:
                fa["state"] = "worked"
                for t in fa["timers"]:
                    t.cancel()
        if worked:
            if fa["timers"][0].active:   # came back before power was restored: restore it now
                self.gpio.power(dev, True)
            self._log("first_aid.worked", None, device=dev, detail={"after_s": self.clock.now() - fa["at"]})
            self._publish(ev.FIRST_AID, {"device": dev, "action": "worked"})
            self._repeat_selftests(f"{dev} answers again")
        self._outputs()
        self._notify()

    def _declare_device_fault(self, dev: str, reason: str, tried: bool) -> None:
        """No first aid (or it did not help): the link's incident opens from the room state."""
        self._reconcile(self.room.readiness().to_dict())

    # -- incidents: one alarm per device and cause, opened and closed by the room state ------------

    def _first_aid_pending(self, dev: str) -> bool:
        fa = self._first_aid.get(dev)
        return fa is not None and fa["state"] in ("power_off", "power_on")

    def _reconcile(self, readiness: dict) -> None:
        """Open an alarm for each failing check of each device (once, not per poll) and close,
        as recovered, those whose cause is gone. Whatever found it: the poll, a self-test,
        the panel's test. A lost device's link waits for its first aid to be tried."""
        devices = readiness.get("devices", {})
        failing = {}
        for dev, d in devices.items():
            for c in d["checks"]:
                if not c["ok"] and c["code"] not in PASSING_STATES \
                        and not (c["check"] == ONLINE_CHECK and self._first_aid_pending(dev)):
                    failing[f"device:{dev}:{c['check']}"] = (dev, d, c)
        open_keys = {a["key"] for a in self._alarms}
        for key, (dev, d, c) in failing.items():
            if key not in open_keys:
                self._open_incident(key, dev, d, c)
        for a in list(self._alarms):
            if a["key"].startswith("device:") and a["key"] not in failing and \
                    _cause_gone(devices.get(a["device"]), a["key"].split(":", 2)[2]):
                self._recovered(a, "the device passes this check again")

    def _open_incident(self, key: str, dev: str, d: dict, c: dict) -> None:
        dcfg = self.cfg.devices.get(dev)
        label = dcfg.label if dcfg else dev
        evidence = {"check": c["check"], "value": c.get("value"), "detail": c.get("detail", ""),
                    "measured_at": iso_utc(c["at"]), "live": c.get("live", False)}
        if c["check"] == ONLINE_CHECK:
            evidence["first_aid"] = [{"at": iso_utc(r["at"]), "action": r["kind"]} for r in self.room.store.query(
                "SELECT at, kind FROM room_log WHERE device=? AND kind LIKE 'first_aid.%' AND at>=? ORDER BY id",
                (dev, self.clock.now() - self.settings.first_aid_cooldown_s))]
        self._raise_alarm(key, "fault" if d.get("required", True) else "warning", c.get("reason") or c["code"],
                          c["code"], {"device": label, **(c.get("params") or {})}, evidence, device=dev,
                          first_seen=c["at"])

    def _recovered(self, alarm: dict, why: str) -> None:
        now = self.clock.now()
        with self._lock:
            self.room.store.execute("UPDATE alarms SET state='recovered', closed_at=?, note=? WHERE id=?",
                                    (now, why, alarm["id"]))
            self._reload_alarms()
        seconds = round(now - alarm["raised_at"], 1)
        self._log("alarm.recovered", alarm["hearing_id"], device=alarm["device"],
                  detail={"alarm": alarm["id"], "key": alarm["key"], "seconds": seconds})
        self._publish(ev.ALARM_CLEARED, {"alarm": {**alarm, "state": "recovered", "closed_at": now},
                                         "why": why, "seconds": seconds})
        self._outputs()
        self._repeat_selftests(f"{alarm['device']} recovered")
        self._notify()

    def first_aid(self) -> dict:
        with self._lock:
            return {d: {k: v for k, v in fa.items() if k != "timers"} for d, fa in self._first_aid.items()}

    def _raise_alarm(self, key, level, message, code, params, evidence, hearing_id=None, device=None,
                     first_seen: float | None = None) -> dict:
        with self._lock:
            existing = next((a for a in self._alarms if a["key"] == key), None)
            if existing is not None:
                return existing
            aid = self.room.store.execute(
                "INSERT INTO alarms(key, level, hearing_id, device, message, code, params, evidence, raised_at, state) "
                "VALUES (?,?,?,?,?,?,?,?,?,'open')",
                (key, level, hearing_id, device, message, code, _dump(params), _dump(evidence),
                 min(first_seen or self.clock.now(), self.clock.now())))
            self._reload_alarms()
            alarm = self.alarm(aid)
        self._log("alarm.raised", hearing_id, device=device, detail={"alarm": aid, "key": key, "message": message})
        self._publish(ev.ALARM_RAISED, {"alarm": alarm})
        self._outputs()
        self._notify()
        return alarm

    def _clear_alarms(self, key: str | None = None, hearing_id: str | None = None, why: str = "") -> bool:
        with self._lock:
            gone = [a for a in self._alarms if (key and a["key"] == key) or (hearing_id and a["hearing_id"] == hearing_id)]
            for a in gone:
                self.room.store.execute("UPDATE alarms SET state='cleared', closed_at=?, note=? WHERE id=?",
                                        (self.clock.now(), why, a["id"]))
            if gone:
                self._reload_alarms()
        for a in gone:
            self._publish(ev.ALARM_CLEARED, {"alarm": {**a, "state": "cleared"}, "why": why})
        if gone:
            self._outputs()
        return bool(gone)

    def mark(self, alarm_id, mark, who, note: str = "") -> dict:
        """The technician's mark on an alarm: fixing, fixed or cannot_be_fixed."""
        if mark not in MARKS:
            raise ValueError(f"mark must be one of {', '.join(MARKS)}, got {mark!r}")
        if not isinstance(who, str) or not who.strip():
            raise ValueError("say who marks the fault ('by')")
        if not isinstance(note, str):
            raise ValueError("note must be text")
        try:
            alarm_id = int(alarm_id)
        except (TypeError, ValueError):
            raise ValueError(f"alarm_id: {alarm_id!r} is not an alarm number") from None
        with self._lock:
            alarm = self.alarm(alarm_id)
            if alarm is None:
                raise ValueError(f"no alarm {alarm_id}")
            if alarm["state"] not in OPEN_STATES:
                raise ValueError(f"alarm {alarm_id} is already closed ({alarm['state']})")
            still = self._still_failing(alarm) if mark == "fixed" else None
            if still is not None:
                raise ValueError(f"alarm {alarm_id} cannot be marked fixed: the device still fails this check "
                                 f"({still.get('reason') or still['code']})")
            closed = self.clock.now() if mark == "fixed" else None
            self.room.store.execute("UPDATE alarms SET state=?, marked_by=?, marked_at=?, note=?, closed_at=? "
                                    "WHERE id=?", (mark, who.strip(), self.clock.now(), note, closed, alarm_id))
            self._reload_alarms()
            alarm = self.alarm(alarm_id)
        self._log("fault.marked", alarm["hearing_id"], who.strip(), {"alarm": alarm_id, "mark": mark, "note": note},
                  device=alarm["device"])
        self._publish(ev.FAULT_MARKED, {"alarm": alarm, "mark": mark, "by": who.strip(), "note": note})
        self._outputs()
        if mark == "fixed":
            if alarm["key"].startswith("device:"):   # a self-test's finding: the next test judges again
                self.room.forget(alarm["device"], alarm["key"].split(":", 2)[2])
            self._repeat_selftests(f"alarm {alarm_id} marked fixed by {who.strip()}")
        elif mark == "cannot_be_fixed":
            hid = alarm["hearing_id"] or self._next_hearing_id()
            if hid and self.acts is not None and not self.acts.for_hearing(hid):
                self.draw_up_act(hid, who.strip())
        self._notify()
        return alarm

    def _still_failing(self, alarm: dict) -> dict | None:
        """The failing check a device still shows now, where the room sees it live (its link,
        the poll's view, the watch); None when nothing current says it still fails."""
        if alarm["key"].startswith("watch:"):
            return {"code": alarm["code"], "reason": alarm["message"]}
        if not alarm["key"].startswith("device:"):
            return None
        d = self.room.readiness().device(alarm["device"])
        check = alarm["key"].split(":", 2)[2]
        c = next((c for c in d.checks if c.check == check), None) if d else None
        return c.to_dict() if c is not None and not c.ok and c.live else None

    def alarm(self, alarm_id: int) -> dict | None:
        rows = self.room.store.query("SELECT * FROM alarms WHERE id=?", (alarm_id,))
        return _alarm(rows[0]) if rows else None

    def alarms(self, open_only: bool = True) -> list[dict]:
        if open_only:
            return list(self._alarms)
        return [_alarm(r) for r in self.room.store.query("SELECT * FROM alarms ORDER BY id")]

    def _reload_alarms(self) -> None:
        rows = self.room.store.query("SELECT * FROM alarms WHERE state IN ('open','fixing','cannot_be_fixed') "
                                     "ORDER BY id")
        self._alarms = [_alarm(r) for r in rows]

    def _next_hearing_id(self) -> str | None:
        upcoming = [h for h in self.schedule.hearings(since=self.clock.now()) if not self._ended(h.id)]
        return upcoming[0].id if upcoming else None

    # -- the act (item 18) -----------------------------------------------------------------------

    MEASURES = ("first_aid.power_off", "first_aid.power_on", "first_aid.worked", "first_aid.failed",
                "connection.failed", "reconnect.started", "reconnect.done", "selftest.repeat", "fault.marked")

    def facts(self, hid: str, other_reason: str = "") -> dict:
        """What happened, from the record, for the act on the absence of technical possibility:
        the faults recorded from a day before the hearing (with when they were seen, cleared and
        marked), every measure tried and by whom, and the delay. Codes and parameters only: the
        act's text is made from them in each language."""
        h = self._hearing(hid, allow_cancelled=True)
        since = h.start - self.settings.warn_before_s
        local = self.schedule.local

        def at(t):
            return f"{local(t):%d.%m.%Y %H:%M}" if t else None

        def label(dev):
            dcfg = self.cfg.devices.get(dev) if dev else None
            return (dcfg.label if dcfg else dev) if dev else None

        alarms = [a for a in self.alarms(open_only=False) if a["level"] == "fault" and
                  (a["hearing_id"] == hid or (a["device"] and a["raised_at"] >= since
                                              and (a["closed_at"] is None or a["closed_at"] >= since)))]
        marks = {}
        tried = []
        for t in self.room.store.query(
                f"SELECT at, kind, device, who, detail FROM room_log WHERE (hearing_id=? OR (hearing_id IS NULL "
                f"AND at>=?)) AND kind IN ({','.join('?' * len(self.MEASURES))}) ORDER BY id",
                (hid, since, *self.MEASURES)):
            detail = json.loads(t["detail"])
            if t["kind"] == "fault.marked":
                marks.setdefault(detail.get("alarm"), []).append(
                    {"mark": detail.get("mark"), "by": t["who"], "at_local": at(t["at"])})
            params = {k: detail[k] for k in ("mark", "off_s", "waited_s") if k in detail}
            tried.append({"at_local": at(t["at"]), "action": t["kind"], "device": t["device"],
                          "device_label": label(t["device"]), "who": t["who"], "params": params})
        connected = self.room.store.query("SELECT MIN(at) AS at FROM room_log WHERE hearing_id=? AND "
                                          "kind='connection.started'", (hid,))[0]["at"]
        now = self.clock.now()
        delay = None
        if now > h.start or (connected and connected > h.start):
            until = connected if connected and connected > h.start else None
            delay = {"planned_local": at(h.start), "until_local": at(until),
                     "minutes": round(((until or now) - h.start) / 60)}
        return {
            "court": self.cfg.court_name, "court_id": self.cfg.court_id, "courtroom": self.cfg.courtroom,
            "case_number": h.case_number, "hearing_id": hid,
            "start_local": at(h.start), "timezone": self.cfg.timezone,
            "far_side": h.far_side.to_dict(),
            "failures": [{"device": a["device"], "device_label": label(a["device"]), "code": a["code"],
                          "params": a["params"], "first_seen_local": at(a["raised_at"]),
                          "cleared_local": at(a["closed_at"]) if a["state"] in ("recovered", "fixed", "cleared")
                          else None, "state": a["state"], "marks": marks.get(a["id"], [])} for a in alarms],
            "tried": tried,
            "delay": delay,
            "other_reason": other_reason.strip(),
            "technician": next((a["marked_by"] for a in alarms if a["state"] == "cannot_be_fixed"), ""),
            "drawn_up_local": at(now),
        }

    def draw_up_act(self, hid: str, who: str = "", other_reason: str = "") -> dict:
        """Draft the act (item 18). With no fault on record it needs the secretary's written
        reason: item 18 also covers a delay "for other reasons", but an act must say why."""
        if not isinstance(other_reason, str) or len(other_reason) > 2000:
            raise ValueError("the reason must be text of at most 2000 characters")
        facts = self.facts(hid, other_reason)
        if not facts["failures"] and not facts["other_reason"]:
            raise ValueError("no technical fault is recorded for this hearing: write the reason for the act")
        act = self.acts.draft(hid, facts, who)
        self._log("act.created", hid, who, {"act": act["id"]})
        self._publish(ev.ACT_CREATED, {"act_id": act["id"], "hearing_id": hid, "facts": facts})
        self._notify()
        return act

    # -- suspension (item 24), outputs, button ----------------------------------------------------

    def _suspension(self, reason: str | None) -> None:
        with self._lock:
            self._suspended = reason
            session = self._session
            self._session = None
        if reason:
            self._log("vks.suspended", None, detail={"reason": reason})
            if session:
                try:
                    self.ledger.finish(session["id"], "aborted", [], {}, {}, f"VKS suspended: {reason}")
                except ValueError:
                    pass
        else:
            self._log("vks.resumed", None, detail={})
            threading.Thread(target=self._replan_all, name="replan", daemon=True).start()
        self._notify()

    def _replan_all(self) -> None:
        for h in self.schedule.hearings(since=self.clock.now()):
            self._plan(h)
        self._notify()

    def status(self) -> str:
        """The status light: ready | warning | fault | suspended."""
        if self._suspended:
            return "suspended"
        alarms = self._alarms
        if any(a["level"] == "fault" for a in alarms):
            return "fault"
        busy = any(fa["state"] in ("power_off", "power_on") for fa in self._first_aid.values())
        state = self.room.readiness().state
        if alarms or busy or self._break or state in (RoomState.NOT_READY, RoomState.DEGRADED, RoomState.UNKNOWN):
            return "warning"
        return "ready"

    def _outputs(self) -> None:
        if self.gpio is None:
            return
        with self._lock:
            status = self.status()
            buzz = any(a["level"] == "fault" and a["state"] == "open" for a in self._alarms)
            if status != self.gpio.status:
                self.gpio.show(status)
            if buzz != self.gpio.buzzing:
                self.gpio.buzz(buzz)

    def _button(self) -> None:
        try:
            self.room.run_selftest("button")
        except ValueError as exc:
            log.warning("self-test button: %s", exc)

    # -- the hearing record (item 21) --------------------------------------------------------------

    def record(self, hid: str) -> list[dict]:
        rows = self.room.store.query(
            f"SELECT at, kind, who, detail FROM room_log WHERE hearing_id=? AND kind IN "
            f"({','.join('?' * len(RECORD_KINDS))}) ORDER BY id", (hid, *RECORD_KINDS))
        return [{"at": iso_utc(r["at"]), "local": f"{self.schedule.local(r['at']):%Y-%m-%d %H:%M:%S}",
                 "event": r["kind"], "who": r["who"], "detail": json.loads(r["detail"])} for r in rows]

    def export_record(self, hid: str, fmt: str = "json") -> str:
        h = self._hearing(hid, allow_cancelled=True)
        rows = self.record(hid)
        if fmt == "json":
            return json.dumps({"hearing": h.to_dict(), "court_id": self.cfg.court_id, "courtroom": self.cfg.courtroom,
                               "record": rows}, ensure_ascii=False, indent=1)
        if fmt == "csv":
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(["at_utc", "at_local", "event", "who", "detail"])
            for r in rows:
                w.writerow([r["at"], r["local"], r["event"], r["who"], json.dumps(r["detail"], ensure_ascii=False)])
            return out.getvalue()
        raise ValueError(f"format must be csv or json, got {fmt!r}")

    def log_entries(self, limit: int = 50, device: str | None = None) -> list[dict]:
        if device:
            return self.room.store.query("SELECT * FROM room_log WHERE device=? ORDER BY id DESC LIMIT ?",
                                         (device, limit))
        return self.room.store.query("SELECT * FROM room_log ORDER BY id DESC LIMIT ?", (limit,))

    # -- helpers ---------------------------------------------------------------------------------

    def on_hearing(self) -> str | None:
        return self._on

    def connected(self, hid: str) -> bool:
        return hid in self._connected

    def _hearing(self, hid, allow_cancelled: bool = False) -> Hearing:
        h = self.schedule.get(hid) if isinstance(hid, str) else None
        if h is None:
            raise ValueError(f"no hearing {hid!r} in this room's schedule")
        if h.status != "scheduled" and not allow_cancelled:
            raise ValueError(f"hearing {hid} was cancelled")
        return h

    def _not_suspended(self) -> None:
        if self._suspended:
            raise ValueError(f"VKS is suspended ({self._suspended}): no tests or calls until resumed")

    def _log(self, kind: str, hid: str | None, who: str = "", detail: dict | None = None, device: str | None = None):
        self.room.store.execute("INSERT INTO room_log(at, kind, hearing_id, device, who, detail) VALUES (?,?,?,?,?,?)",
                                (self.clock.now(), kind, hid, device, who, _dump(detail or {})))

    def _publish(self, kind: str, data: dict) -> None:
        """Announce an event from the room thread, which announces everything else the room says.

        The bus hands an event to its followers one after the other on the publishing thread;
        two threads publishing at once would reach the followers in different orders (the MQTT
        link's seq would disagree with the panel's). Published from one thread, every follower
        sees one order per room, and an event a timer or the panel causes after a room event
        (a test session recorded after its self-test finished) comes after it everywhere.
        Off the room thread never called holding ``self._lock``: the room thread may be waiting for it."""
        event = ev.Event(kind, data, ts=self.clock.now())
        threaded = hasattr(self.room, "post")     # a Controller (test doubles may run inline)
        elsewhere = threaded and not self.room.on_room_thread() and self.room.thread_alive
        if elsewhere and self._lock._is_owned():   # a bug: the room thread may wait for our lock
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

    def _on_room_thread(self, fn: Callable, *args) -> None:
        """On the room thread: run ``fn`` after the item being handled (the event being delivered).

        It runs holding the planner lock throughout, so a waiter in :meth:`wait_for` woken by an
        earlier change sees the reaction either not begun or complete (its state, pins and events
        together), never half done. (Publishing holding the lock is safe on the room thread.)"""
        if not hasattr(self.room, "post") or not self.room.on_room_thread():
            fn(*args)
            return

        def react():
            with self._lock:
                fn(*args)

        self.room.post(react)


def _connection(hid: str, state: str, info: dict) -> dict:
    """hearing.connection data: ``state`` is started | failed | ended; the codec's own call state
    from the attempt stays apart as ``call_state`` (it must not overwrite ``state``)."""
    return {"hearing_id": hid, **{k: v for k, v in info.items() if k != "state"}, "call_state": info.get("state"),
            "state": state}


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _alarm(row: dict) -> dict:
    return {**row, "params": json.loads(row["params"]), "evidence": json.loads(row["evidence"])}


def _cause_gone(device: dict | None, check: str) -> bool:
    """Whether a device's state says an incident's cause is gone: the check passes now, or
    it was a "could not reach it" finding and the device answers again. A device that does
    not answer tells nothing of its other causes."""
    if device is None:
        return True
    checks = {c["check"]: c for c in device["checks"]}
    online = checks.get(ONLINE_CHECK)
    if check in checks:
        return checks[check]["ok"]
    return online is not None and online["ok"] and check in (ONLINE_CHECK, "reachable", "timeout")
