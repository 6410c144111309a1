"""The planner: the schedule turned into timers (rule items in brackets).

* from 24 h before, without a passed test session, a warning alarm (13);
* a self-test timed to finish before the T-30 min connection window (15), whose verdict is
  the room's readiness for that hearing; repeated when a fault is fixed before the hearing;
* the hearing under way from its start (or the connection) to its end; the secretary's
  connection, reconnection and end of the call (15, 21, 22);
* while VKS is suspended (24) nothing is tested or called.
"""
from __future__ import annotations

import threading

from vksroom.controller.texts import Refused, say
from vksroom.controller import events as ev
from vksroom.controller.clock import Timer
from vksroom.controller.lifecycle.base import Parts
from vksroom.controller.schedule import Change, Hearing, ScheduleError, iso_utc


def _connection(hid: str, state: str, info: dict) -> dict:
    """hearing.connection data: ``state`` is started | failed | ended; the codec's own call state
    from the attempt stays apart as ``call_state`` (it must not overwrite ``state``)."""
    return {"hearing_id": hid, **{k: v for k, v in info.items() if k != "state"}, "call_state": info.get("state"),
            "state": state}


# Why a hearing or its call ended: the key the record's detail and the event's ``cause`` keep,
# and the code of the sentence its ``reason`` says.
ENDINGS = {"scheduled": "hearing.end.scheduled", "secretary": "hearing.end.secretary",
           "cancelled": "hearing.end.cancelled", "hearing_ended": "connection.end.hearing",
           "reconnect": "connection.end.reconnect"}


def _ending(hid: str, cause: str) -> dict:
    """hearing.ended / hearing.connection (ended) data: the cause by its key, the sentence people read."""
    code = ENDINGS.get(cause, "hearing.ended")
    return {"hearing_id": hid, "cause": cause, "code": code, "reason": say(code)}


class Planner:
    def __init__(self, parts: Parts, life):
        self.p = parts
        self.life = life
        self._timers: dict[str, list[Timer]] = {}
        self.on: str | None = None                   # the hearing under way
        self._connected: dict[str, float] = {}       # hearing -> connected at
        self.suspended: str | None = None
        self.started = False

    # -- the schedule ------------------------------------------------------------------------

    def change(self, action: str, doc, source: str = "centre") -> dict:
        """Apply a schedule message and re-plan. Raises ScheduleError (a ValueError) when refused."""
        schedule, p = self.life.schedule, self.p
        before = schedule.get(doc.get("id")) if isinstance(doc, dict) and isinstance(doc.get("id"), str) else None
        try:
            change: Change = getattr(schedule, action)(doc, source)
        except ScheduleError as exc:
            p.publish(ev.HEARING_REJECTED, {"hearing_id": exc.hearing_id, "action": action, "source": source,
                                            "errors": exc.sentences(), "codes": exc.codes, "detail": exc.detail})
            raise
        if change.applied:
            if change.outcome == "cancelled":
                p.publish(ev.HEARING_CANCELLED, {"hearing_id": change.hearing_id, "version": change.version})
                self.close(change.hearing_id, "cancelled")
            elif change.hearing is not None:     # created or updated: the hearing as stored
                h = change.hearing
                if before is not None and before.start != h.start:
                    schedule.forget_readiness(h.id)
                    self.life.incidents.clear(hearing_id=h.id, why="alarm.closed.moved")
                kind = ev.HEARING_CREATED if change.outcome == "created" else ev.HEARING_UPDATED
                p.publish(kind, {"hearing": h.to_dict(), "conflicts": list(change.conflicts)})
                if change.conflicts:
                    p.publish(ev.HEARING_CONFLICT, {"hearing_id": h.id, "conflicts": list(change.conflicts),
                                                    "detail": change.detail})
                self.plan(h)
        p.notify()
        return change.to_dict()

    def selftest_at(self, h: Hearing) -> float:
        """When the pre-hearing self-test starts: its whole deadline plus a margin before T-30 min."""
        s = self.p.settings
        return h.start - s.connect_window_s - self.p.cfg.selftest.check_timeout_s - s.selftest_margin_s

    def plan(self, h: Hearing) -> None:
        if not self.started:
            return
        clock, s = self.p.clock, self.p.settings
        now = clock.now()
        with self.p.lock:
            for t in self._timers.pop(h.id, []):
                t.cancel()
            if h.status != "scheduled" or h.end <= now or self.life.history.ended(h.id):
                return
            timers = []
            if now < h.start:
                timers.append(clock.call_at(max(now, h.start - s.warn_before_s), self._warn, h.id,
                                            name=f"warn-{h.id}"))
                done = self.life.schedule.readiness_for(h.id)
                if not done or done.get("at", 0) < self.selftest_at(h):
                    timers.append(clock.call_at(max(now, self.selftest_at(h)), self._selftest, h.id, "schedule",
                                                name=f"selftest-{h.id}"))
            timers.append(clock.call_at(max(now, h.start), self._start, h.id, name=f"start-{h.id}"))
            timers.append(clock.call_at(h.end, self.hearing_end, h.id, "scheduled", name=f"end-{h.id}"))
            self._timers[h.id] = timers

    def _later(self, hid: str, when: float, fn, *args, name: str) -> None:
        with self.p.lock:
            self._timers.setdefault(hid, []).append(self.p.clock.call_at(when, fn, *args, name=name))

    def planned(self) -> list[tuple[float, str]]:
        with self.p.lock:
            return sorted((t.when, t.name) for ts in self._timers.values() for t in ts if t.active)

    def stop(self) -> None:
        self.started = False
        with self.p.lock:
            for timers in self._timers.values():
                for t in timers:
                    t.cancel()
            self._timers.clear()

    def replan_all(self) -> None:
        for h in self.life.schedule.hearings(since=self.p.clock.now()):
            self.plan(h)
        self.p.notify()

    def replan_after_clock(self, why: str) -> None:
        """The clock was set (synchronised, or stepped): plan every hearing again from the true
        time, ending the one under way if its end has passed, rather than firing every timer the
        clock jumped over."""
        now = self.p.clock.now()
        on = self.life.schedule.get(self.on) if self.on else None
        if on is not None and on.end <= now:
            self.hearing_end(on.id, "scheduled")
        self.p.log("planner.replanned", None, detail={"why": f"clock {why}"})
        self.replan_all()

    def held(self, hid: str, action: str) -> bool:
        """An action the hearing's time triggers waits while the clock is not synchronised (the
        time it fired at may be wrong); the plan is made again once it is."""
        if self.p.clock_true():
            return False
        self.p.log("planner.held", hid, detail={"action": action, "reason": "clock not synchronised"})
        return True

    def next_hearing_id(self) -> str | None:
        upcoming = [h for h in self.life.schedule.hearings(since=self.p.clock.now())
                    if not self.life.history.ended(h.id)]
        return upcoming[0].id if upcoming else None

    # -- before the hearing --------------------------------------------------------------------

    def _warn(self, hid: str) -> None:
        h = self.life.schedule.get(hid)
        if h is None or h.status != "scheduled" or self.life.ledger.passed(hid) or self.held(hid, "warn"):
            return
        hours = max(0.0, (h.start - self.p.clock.now()) / 3600)
        self.life.incidents.raise_(f"test_session:{hid}", "warning", "test_session.missing",
                                   {"case": h.case_number, "hours": round(hours, 1)}, {}, hearing_id=hid)
        self.p.publish(ev.TEST_SESSION_MISSING, {"hearing_id": hid, "case_number": h.case_number,
                                                 "start": iso_utc(h.start), "hours_left": round(hours, 1)})

    def _selftest(self, hid: str, trigger: str) -> None:
        h, p = self.life.schedule.get(hid), self.p
        if h is None or h.status != "scheduled" or self.life.history.ended(hid) or self.held(hid, "selftest"):
            return
        if self.suspended:
            p.log("selftest.skipped", hid, detail={"reason": f"VKS suspended: {self.suspended}"})
            return
        other = self.life.schedule.get(self.on) if self.on and self.on != hid else None
        if other is not None:   # a test recalls presets: not in another hearing; right after it instead
            p.log("selftest.postponed", hid, detail={"until": iso_utc(other.end), "hearing": other.id})
            self._later(hid, other.end, self._selftest, hid, trigger, name=f"selftest-{hid}")
            return
        try:
            run = p.room.selftest(trigger, timeout=p.cfg.selftest.check_timeout_s + 10)
        except (ValueError, TimeoutError) as exc:
            p.log("selftest.skipped", hid, detail={"reason": str(exc)})
            return
        readiness = {"run_id": run["run_id"], "state": run["state"], "reasons": run["reasons"],
                     "at": p.clock.now(), "trigger": trigger}
        self.life.schedule.set_readiness(hid, readiness)
        p.log("selftest.done", hid, detail=readiness)
        # A failing device opens its own alarms from the room state (see Incidents.reconcile).
        p.publish(ev.HEARING_READINESS, {"hearing_id": hid, **readiness})
        p.notify()

    def repeat_selftests(self, why: str) -> None:
        """A fault was fixed: run again the self-test of a hearing whose self-test already ran."""
        now = self.p.clock.now()
        for h in self.life.schedule.hearings(since=now):
            if h.start > now and not self.life.history.ended(h.id) and self.on != h.id \
                    and self.life.schedule.readiness_for(h.id):
                self.p.log("selftest.repeat", h.id, detail={"why": why})
                self._later(h.id, now, self._selftest, h.id, "repeat", name=f"repeat-{h.id}")
                return

    # -- the hearing under way -----------------------------------------------------------------

    def connected(self, hid: str) -> bool:
        return hid in self._connected

    def _start(self, hid: str) -> None:
        h = self.life.schedule.get(hid)
        if h is None or self.life.history.ended(hid) or self.on == hid or self.held(hid, "start"):
            return
        if self.life.acts.for_hearing(hid):
            self.p.log("hearing.no_vks", hid, detail={"reason": "an act on the absence of technical possibility "
                                                                "was drawn up"})
            return
        self._begin(h)

    def _begin(self, h: Hearing) -> None:
        with self.p.lock:
            if self.on == h.id:
                return
            self.on = h.id
        self.p.room.set_hearing(h.id)
        self.p.log("hearing.started", h.id, detail={"case": h.case_number})
        self.p.publish(ev.HEARING_STARTED, {"hearing_id": h.id, "case_number": h.case_number})
        self.life.degradation.start()
        self.p.notify()

    def hearing_end(self, hid: str, reason: str, who: str = "") -> None:
        with self.p.lock:
            was_on = self.on == hid
            if was_on:
                self.on = None
                self.life.degradation.stop()
            connected = self._connected.pop(hid, None)
            self.life.degradation.forget(hid)
        if connected is not None:
            self._hangup(hid, "hearing_ended")
        self.life.outputs.show()
        if was_on or connected is not None:
            self.p.room.set_hearing(None)
            self.p.log("hearing.ended", hid, who, {"reason": reason})
            self.p.publish(ev.HEARING_ENDED, _ending(hid, reason))
        self.close(hid, reason)

    def close(self, hid: str, reason: str) -> None:
        with self.p.lock:
            for t in self._timers.pop(hid, []):
                t.cancel()
        if self.on == hid:
            self.hearing_end(hid, reason)
            return
        self.life.incidents.clear(hearing_id=hid, why=ENDINGS.get(reason, "hearing.ended"))
        self.p.notify()

    def resume(self) -> None:
        """After a restart: a hearing under way (started, not ended) is under way again."""
        now = self.p.clock.now()
        record = self.life.history
        for h in self.life.schedule.hearings(since=now):
            if h.start <= now < h.end and not record.ended(h.id):
                kinds = record.kinds(h.id, "connection.started", "connection.ended")
                if kinds and kinds[-1] == "connection.started":
                    self._connected[h.id] = now
                if record.kinds(h.id, "hearing.started"):
                    with self.p.lock:
                        self.on = h.id
                    self.p.room.set_hearing(h.id)
                    self.life.degradation.start()

    def end(self, hid: str, who: str) -> None:
        """The secretary ends the hearing (hangs up)."""
        self.life.hearing(hid)
        self.hearing_end(hid, "secretary", who)

    def connect(self, hid: str, who: str) -> dict:
        """The secretary connects to the far side (item 15). Dials; the answer comes on the clock."""
        h = self.life.hearing(hid)
        self.not_suspended()
        self.life.dialler.require()
        if hid in self._connected:
            raise Refused("refused.already_connected")
        self.p.log("connection.dialling", hid, who, {"number": h.far_side.number})
        self.life.dialler.dial(hid, h.far_side.number, "connect", lambda ok, info: self._answered(h, who, ok, info))
        return {"hearing_id": hid, "number": h.far_side.number, "state": "connecting"}

    def _answered(self, h: Hearing, who: str, ok: bool, info: dict) -> None:
        p = self.p
        if ok:
            with p.lock:
                self._connected[h.id] = p.clock.now()
            p.log("connection.started", h.id, who, info)
            p.publish(ev.HEARING_CONNECTION, _connection(h.id, "started", info))
            self.life.incidents.clear(key=f"call:{h.id}", why="alarm.closed.answered")
            self._begin(h)
            return
        p.log("connection.failed", h.id, who, info)
        p.publish(ev.HEARING_CONNECTION, _connection(h.id, "failed", info))
        placed = info.get("state") != "dial_failed"      # the codec could not start the call at all
        self.life.incidents.raise_(f"call:{h.id}", "fault", "call.no_answer" if placed else "call.not_placed",
                                   {"far_side": h.far_side.name, "seconds": round(info["waited_s"])}, info,
                                   hearing_id=h.id)

    def reconnect(self, hid: str, who: str) -> dict:
        """Drop and redial the far side (item 22); logged in the hearing record."""
        h = self.life.hearing(hid)
        self.not_suspended()
        self.life.dialler.require()
        if self.on != hid and hid not in self._connected:
            raise Refused("refused.not_under_way")
        recommended = self.life.degradation.break_for(hid)
        self.p.log("reconnect.started", hid, who, {"break": recommended,
                                                 "quality_before": self.life.degradation.reconnecting(hid)})
        with self.p.lock:
            self._connected.pop(hid, None)
        self.life.degradation.forget(hid)
        self.life.outputs.show()
        self._hangup(hid, "reconnect")

        def done(ok: bool, info: dict) -> None:
            if ok:
                with self.p.lock:
                    self._connected[hid] = self.p.clock.now()
                self.p.log("connection.started", hid, who, info)
                self.p.log("reconnect.done", hid, who, info)
                self.p.publish(ev.HEARING_CONNECTION, {**_connection(hid, "started", info), "reconnect": True})
            else:
                self._answered(h, who, False, info)

        self.life.dialler.dial(hid, h.far_side.number, "reconnect", done)
        return {"hearing_id": hid, "state": "connecting"}

    def _hangup(self, hid: str, reason: str) -> None:
        self.life.dialler.hangup()
        self.p.log("connection.ended", hid, detail={"reason": reason})
        self.p.publish(ev.HEARING_CONNECTION, {**_ending(hid, reason), "state": "ended"})

    # -- suspension (item 24) ------------------------------------------------------------------

    def not_suspended(self) -> None:
        if self.suspended:
            raise Refused("refused.suspended")

    def suspension(self, reason: str | None) -> None:
        with self.p.lock:
            self.suspended = reason
        if reason:
            self.p.log("vks.suspended", None, detail={"reason": reason,
                                                      "by": getattr(self.p.room, "suspended_by", "") or "centre"})
            self.life.sessions.abort(say("refused.suspended"))
        else:
            self.p.log("vks.resumed", None, detail={})
            threading.Thread(target=self.replan_all, name="replan", daemon=True).start()
        self.p.notify()
