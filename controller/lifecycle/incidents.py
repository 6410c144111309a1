"""Incidents (rule items 14, 16, 17): one alarm per device and cause, opened once whatever
found it (the poll, a self-test, the in-hearing watch), closed as ``recovered`` with its
duration when the cause is gone; the technician's marks fixing / fixed / cannot be fixed.

Keys: ``device:<id>:<check>`` (from the room state), ``watch:<id>:<check>`` (a degradation
the watch saw last), ``call:<hearing>`` (the far side did not answer), ``test_session:<hearing>``
(item 13's warning). The open ones are kept in memory; every alarm is a row in SQLite.
"""
from __future__ import annotations

import json

from vksroom.controller import events as ev
from vksroom.controller import texts as tx
from vksroom.controller.texts import Refused
from vksroom.controller.lifecycle.base import Parts, dump
from vksroom.controller.model import ONLINE_CHECK
from vksroom.controller.schedule import iso_utc

MARKS = ("fixing", "fixed", "cannot_be_fixed")
OPEN_STATES = ("open", "fixing", "cannot_be_fixed")
PASSING_STATES = ("camera.booting",)   # not ready yet, but no fault: seen, never an alarm
STALE_WHEN_BACK = (ONLINE_CHECK, "reachable", "timeout")   # "could not reach it" findings


class Incidents:
    def __init__(self, parts: Parts, life):
        self.p = parts
        self.life = life
        self._open: list[dict] = []

    def load(self) -> None:
        rows = self.p.store.query("SELECT * FROM alarms WHERE state IN ('open','fixing','cannot_be_fixed') "
                                  "ORDER BY id")
        self._open = [_alarm(r) for r in rows]

    # -- reading -------------------------------------------------------------------------------

    def alarm(self, alarm_id: int) -> dict | None:
        rows = self.p.store.query("SELECT * FROM alarms WHERE id=?", (alarm_id,))
        return _alarm(rows[0]) if rows else None

    def _written(self, alarm_id: int) -> dict:
        """An alarm this part has just written under the lock (alarms are never deleted)."""
        alarm = self.alarm(alarm_id)
        if alarm is None:
            raise LookupError(f"alarm {alarm_id} is not in the store right after being written")
        return alarm

    def alarms(self, open_only: bool = True) -> list[dict]:
        if open_only:
            return list(self._open)
        return [_alarm(r) for r in self.p.store.query("SELECT * FROM alarms ORDER BY id")]

    def find(self, key: str) -> dict | None:
        return next((a for a in self._open if a["key"] == key), None)

    # -- from the room state -------------------------------------------------------------------

    def reconcile(self, readiness: dict) -> None:
        """Open an alarm for each failing check of each device (once, not per poll) and close,
        as recovered, those whose cause is gone. A device under first aid is being power-cycled:
        what the poll or a self-test finds on it meanwhile stays in the room state (and the
        self-test's record), and its alarm waits for first aid to end, failed or not."""
        devices = readiness.get("devices", {})
        failing = {}
        for dev, d in devices.items():
            if self.life.aid.pending(dev):
                continue
            for c in d["checks"]:
                if not c["ok"] and c["code"] not in PASSING_STATES:
                    failing[f"device:{dev}:{c['check']}"] = (dev, d, c)
        # One fault, one alarm, whoever saw it first: the poll's lost link and the self-test's
        # "could not reach it" are the same sentence on the same device.
        open_keys = {a["key"] for a in self._open}
        seen = {_fault(a["device"], a["code"], a["params"]) for a in self._open if a["key"].startswith("device:")}
        still = set()
        for key, (dev, d, c) in failing.items():
            fault = _fault(dev, c["code"], self._params(dev, c))
            if key not in open_keys and fault not in seen:
                self._open_for_check(key, dev, d, c)
            seen.add(fault)
            still.add(fault)
        for a in list(self._open):
            if a["key"].startswith("device:") and a["key"] not in failing and \
                    _fault(a["device"], a["code"], a["params"]) not in still and \
                    _cause_gone(devices.get(a["device"]), a["key"].split(":", 2)[2]):
                self.recovered(a, "alarm.closed.recovered")

    def _params(self, dev: str, c: dict) -> dict:
        """A failing check's parameters as its alarm keeps them (the device named by its label)."""
        return {"device": self.p.label(dev), **(c.get("params") or {})}

    def _open_for_check(self, key: str, dev: str, d: dict, c: dict) -> None:
        evidence = {"check": c["check"], "value": c.get("value"), "detail": c.get("detail", ""),
                    "measured_at": iso_utc(c["at"]), "live": c.get("live", False)}
        if c["check"] in STALE_WHEN_BACK:       # not answering: what first aid tried
            evidence["first_aid"] = self.life.aid.history(dev)
        self.raise_(key, "fault" if d.get("required", True) else "warning", c["code"],
                    self._params(dev, c), evidence, device=dev,
                    first_seen=c["at"])

    # -- opening and closing -------------------------------------------------------------------

    def raise_(self, key, level, code, params, evidence, hearing_id=None, device=None,
               first_seen: float | None = None) -> dict:
        """Open alarm ``key`` unless it is open. Its ``message`` is the English sentence, for the log;
        people read it from the code and parameters in their language."""
        message = tx.say_where(code, params, "en")
        with self.p.lock:
            existing = self.find(key)
            if existing is not None:
                return existing
            now = self.p.clock.now()
            aid = self.p.store.execute(
                "INSERT INTO alarms(key, level, hearing_id, device, message, code, params, evidence, raised_at, state) "
                "VALUES (?,?,?,?,?,?,?,?,?,'open')",
                (key, level, hearing_id, device, message, code, dump(params), dump(evidence),
                 min(first_seen or now, now)))
            self.load()
            alarm = self._written(aid)
        self.p.log("alarm.raised", hearing_id, device=device, detail={"alarm": aid, "key": key, "code": code})
        self.p.publish(ev.ALARM_RAISED, {"alarm": alarm})
        self.life.outputs.show()
        self.p.notify()
        return alarm

    def recovered(self, alarm: dict, why: str) -> None:
        """The cause is gone by itself: closed as recovered, with how long it lasted. ``why`` is the
        code (``alarm.closed.*``) of the sentence the event's ``reason`` says."""
        now = self.p.clock.now()
        with self.p.lock:
            self.p.store.execute("UPDATE alarms SET state='recovered', closed_at=?, note=? WHERE id=?",
                                 (now, why, alarm["id"]))
            self.load()
        seconds = round(now - alarm["raised_at"], 1)
        self.p.log("alarm.recovered", alarm["hearing_id"], device=alarm["device"],
                   detail={"alarm": alarm["id"], "key": alarm["key"], "seconds": seconds})
        self.p.publish(ev.ALARM_CLEARED, {"alarm": {**alarm, "state": "recovered", "closed_at": now},
                                          "why": why, "reason": tx.say(why), "seconds": seconds})
        self.life.outputs.show()
        self.life.planner.repeat_selftests(f"{alarm['device']} recovered")
        self.p.notify()

    def clear(self, key: str | None = None, hearing_id: str | None = None, why: str = "") -> bool:
        """Close alarms that no longer apply (their hearing ended or moved, a call answered); ``why``
        as for :meth:`recovered`."""
        with self.p.lock:
            gone = [a for a in self._open if (key and a["key"] == key) or (hearing_id and a["hearing_id"] == hearing_id)]
            for a in gone:
                self.p.store.execute("UPDATE alarms SET state='cleared', closed_at=?, note=? WHERE id=?",
                                     (self.p.clock.now(), why, a["id"]))
            if gone:
                self.load()
        for a in gone:
            self.p.publish(ev.ALARM_CLEARED, {"alarm": {**a, "state": "cleared"}, "why": why, "reason": tx.say(why)})
        if gone:
            self.life.outputs.show()
        return bool(gone)

    # -- the technician's marks ----------------------------------------------------------------

    def mark(self, alarm_id, mark, who, note: str = "") -> dict:
        """The technician's mark on an alarm: fixing, fixed or cannot_be_fixed."""
        if mark not in MARKS:
            raise Refused("refused.bad_mark")
        if not isinstance(who, str) or not who.strip():
            raise Refused("refused.who")
        if not isinstance(note, str):
            raise Refused("refused.text_too_long")
        try:
            alarm_id = int(alarm_id)
        except (TypeError, ValueError):
            raise Refused("refused.no_alarm") from None
        with self.p.lock:
            alarm = self.alarm(alarm_id)
            if alarm is None:
                raise Refused("refused.no_alarm")
            if alarm["state"] not in OPEN_STATES:
                raise Refused("refused.alarm_closed")
            still = self._still_failing(alarm) if mark == "fixed" else None
            if still is not None:
                raise Refused("refused.still_failing", device=self.p.label(alarm["device"]))
            now = self.p.clock.now()
            self.p.store.execute("UPDATE alarms SET state=?, marked_by=?, marked_at=?, note=?, closed_at=? "
                                 "WHERE id=?", (mark, who.strip(), now, note, now if mark == "fixed" else None,
                                                alarm_id))
            self.load()
            alarm = self._written(alarm_id)
        self.p.log("fault.marked", alarm["hearing_id"], who.strip(), {"alarm": alarm_id, "mark": mark, "note": note},
                   device=alarm["device"])
        self.p.publish(ev.FAULT_MARKED, {"alarm": alarm, "mark": mark, "by": who.strip(), "note": note,
                                         "reason": tx.say("fault.marked", {"mark": tx.state_word(mark),
                                                                           "who": tx.person(who.strip())})})
        self.life.outputs.show()
        if mark == "fixed":
            if alarm["key"].startswith("device:"):   # a self-test's finding: the next test judges again
                self.p.room.forget(alarm["device"], alarm["key"].split(":", 2)[2])
            self.life.planner.repeat_selftests(f"alarm {alarm_id} marked fixed by {who.strip()}")
        elif mark == "cannot_be_fixed":
            hid = alarm["hearing_id"] or self.life.planner.next_hearing_id()
            if hid and not self.life.acts.for_hearing(hid):
                self.life.draw_up_act(hid, who.strip())
        self.p.notify()
        return alarm

    def _still_failing(self, alarm: dict) -> dict | None:
        """The failing check a device still shows now, where the room sees it live (its link,
        the poll's view, the watch); None when nothing current says it still fails."""
        if alarm["key"].startswith("watch:"):
            return {"code": alarm["code"], "reason": alarm["message"]}
        if not alarm["key"].startswith("device:"):
            return None
        d = self.p.room.readiness().device(alarm["device"])
        check = alarm["key"].split(":", 2)[2]
        fault = _fault(alarm["device"], alarm["code"], alarm["params"])   # or the same fault seen live
        c = next((c for c in d.checks if not c.ok and c.live and (c.check == check or _fault(
            alarm["device"], c.code, {"device": self.p.label(alarm["device"]), **c.params}) == fault)),
            None) if d else None
        return c.to_dict() if c is not None else None


def _fault(device: str | None, code: str | None, params: dict) -> tuple:
    """What a fault is, whichever check saw it: the device, the sentence's code and its parameters."""
    return device, code, json.dumps(params or {}, ensure_ascii=False, sort_keys=True, default=str)


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
    return online is not None and online["ok"] and check in STALE_WHEN_BACK


def _alarm(row: dict) -> dict:
    """An alarm as the room hands it on: its ``message`` is the log's English, its ``reason`` the
    sentence people read in the room's language (the centre gets both with every alarm event)."""
    params = json.loads(row["params"])
    return {**row, "params": params, "evidence": json.loads(row["evidence"]),
            "reason": tx.say_where(row["code"] or "", params)}
