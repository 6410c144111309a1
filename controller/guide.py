"""The hearing day guide: for one hearing, its timeline of rule deadlines and, at any moment,
one plain status with the next action and who does it (rule items 13, 15, 21, 24).

* test session with the far side no later than T-24 h (13), by the technician;
* the room's self-test, done before T-30 min (15), by the room itself;
* the connection window T-30..T-20 min (15), by the secretary;
* the hearing's start and end.

:func:`guide` is a pure function of the hearing, what is known of it (:class:`Facts`), the
clock's ``now`` and the court's time zone; :func:`facts` reads those facts from the lifecycle.
Words are codes of :mod:`.texts` (``guide.*``) with parameters; the panel says them in its
language. Times in parameters are tables in three languages ("09:00 завтра" / "ертең 09:00").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from vksroom.controller import texts as tx

SECRETARY, TECHNICIAN = "secretary", "technician"
ACTOR_CODES = {SECRETARY: "staff.secretary", TECHNICIAN: "staff.technician"}   # who, in words
STEP_CODES = {"test_session": "guide.step.test_session", "selftest": "guide.step.selftest",
              "connect": "guide.step.connect", "start": "guide.step.start", "end": "guide.step.end"}
SESSION_CODES = {"selftest": "live.session.selftest", "calling": "live.session.calling",
                 "holding": "live.session.holding"}
DEVICE_CODES = {None: "live.device.checking", True: "live.device.ok", False: "live.device.fault"}
STATE_CODES = {"done": "guide.state.done", "failed": "guide.state.failed", "now": "guide.state.now",
               "missed": "guide.state.missed", "later": "guide.state.later"}
LEVELS = ("ok", "info", "warning", "fault")

TEST_SESSION_BEFORE_S = 24 * 3600     # item 13
WINDOW_OPENS_S = 30 * 60              # item 15: the secretary connects 30..20 min before
WINDOW_CLOSES_S = 20 * 60


@dataclass(frozen=True)
class Facts:
    """What is known of a hearing now (read by :func:`facts`; built by hand in tests)."""

    session_passed: bool = False
    session_running: bool = False
    selftest_running: bool = False       # a self-test of the room is under way now
    readiness: dict | None = None        # the pre-hearing self-test's verdict: state, reasons, at
    selftest_at: float | None = None     # when the planner runs that self-test
    dialling: bool = False
    connected: bool = False
    under_way: bool = False
    ended: bool = False
    act: bool = False                    # an act on the absence of technical possibility
    suspended: str = ""                  # the centre's words (item 24)
    cancelled: bool = False
    session_before_s: float = TEST_SESSION_BEFORE_S   # the room's settings (LifecycleSettings)
    window_opens_s: float = WINDOW_OPENS_S


@dataclass(frozen=True)
class Step:
    key: str                 # test_session | selftest | connect | start | end
    at: float
    until: float | None
    actor: str | None
    state: str               # done | failed | now | missed | later

    def to_dict(self) -> dict:
        return {"key": self.key, "at": self.at, "until": self.until, "actor": self.actor, "state": self.state}


@dataclass(frozen=True)
class Guide:
    code: str                # guide.status.*
    params: dict
    actor: str | None        # who does the next action: secretary | technician | None (nobody)
    action: str | None       # the next action: test_session | fix | connect | end | None
    level: str               # ok | info | warning | fault
    steps: tuple[Step, ...] = field(default=())

    @property
    def breach(self) -> bool:
        """A rule is broken now (a hearing inside 24 h without a test session, a missed window)."""
        return self.level == "fault"

    def say(self, lang: str | None = None) -> str:
        return tx.say(self.code, self.params, lang)

    def to_dict(self, lang: str | None = None) -> dict:
        return {"code": self.code, "text": self.say(lang), "actor": self.actor, "action": self.action,
                "level": self.level, "actor_text": tx.say(ACTOR_CODES[self.actor], {}, lang) if self.actor else "",
                "steps": [s.to_dict() for s in self.steps]}


def when(ts: float, now: float, tz: dt.tzinfo) -> dict[str, str]:
    """A moment for people, relative to ``now``'s day in court time: "09:00", "09:00 завтра",
    "вчера 09:00", else the date: a {kk, ru, en} table."""
    at, today = dt.datetime.fromtimestamp(ts, tz), dt.datetime.fromtimestamp(now, tz).date()
    time = f"{at:%H:%M}"
    days = (at.date() - today).days
    code = {0: "guide.when.today", 1: "guide.when.tomorrow", -1: "guide.when.yesterday"}.get(days)
    if code is None:
        return tx.texts("guide.when.date", {"date": f"{at:%d.%m.%Y}", "time": time})
    return tx.texts(code, {"time": time})


def steps(h, f: Facts, now: float) -> tuple[Step, ...]:
    """The hearing's timeline, each step's state at ``now``."""
    deadline = h.start - f.session_before_s
    opens, closes = h.start - f.window_opens_s, h.start - WINDOW_CLOSES_S
    out = []
    if f.session_passed:
        state = "done"
    elif f.session_running:
        state = "now"
    else:
        state = "missed" if now >= deadline else "later"
    out.append(Step("test_session", deadline, None, TECHNICIAN, state))
    selftest_at = f.selftest_at if f.selftest_at is not None else opens - 10 * 60
    if f.readiness:
        state = "failed" if f.readiness.get("state") == "not_ready" else "done"
    else:
        state = "now" if f.selftest_running else ("missed" if now >= opens else
                                                  ("now" if now >= selftest_at else "later"))
    out.append(Step("selftest", selftest_at, opens, None, state))
    if f.connected or f.under_way or f.ended:
        state = "done"
    elif now >= closes:
        state = "missed"
    else:
        state = "now" if now >= opens else "later"
    out.append(Step("connect", opens, closes, SECRETARY, state))
    out.append(Step("start", h.start, None, None, "done" if now >= h.start else "later"))
    out.append(Step("end", h.end, None, SECRETARY,
                    "done" if f.ended or now >= h.end else ("now" if f.under_way else "later")))
    return tuple(out)


def guide(h, f: Facts, now: float, tz: dt.tzinfo) -> Guide:
    """The one status of hearing ``h`` at ``now``: what holds, what to do next and who does it."""
    def w(ts):
        return when(ts, now, tz)

    p = {"time": w(h.start), "far_side": h.far_side.name, "case": h.case_number}
    timeline = steps(h, f, now)

    def say(code, actor, action, level, **more):
        return Guide(code, {**p, **more}, actor, action, level, timeline)

    opens, closes = h.start - f.window_opens_s, h.start - WINDOW_CLOSES_S
    if f.cancelled:
        return say("guide.status.cancelled", None, None, "info")
    if f.ended or (now >= h.end and not f.under_way):
        return say("guide.status.ended", None, None, "info")
    if f.suspended:
        return say("guide.status.suspended", None, None, "warning", reason=f.suspended)
    if f.act and not f.connected:
        return say("guide.status.act", None, None, "warning")
    if f.connected:
        return say("guide.status.in_hearing", SECRETARY, "end", "ok", end=w(h.end))
    if f.dialling:
        return say("guide.status.connecting", SECRETARY, None, "info")
    if f.session_running:
        return say("guide.status.session_running", TECHNICIAN, None, "info")
    readiness = f.readiness or {}
    not_ready = readiness.get("state") == "not_ready"
    reasons = "; ".join(readiness.get("reasons") or []) or "—"
    if now >= h.start:
        return say("guide.status.started_unconnected", SECRETARY, "connect", "fault")
    if now >= opens:
        if not_ready:
            return say("guide.status.connect_not_ready", SECRETARY, "connect", "fault", reasons=reasons)
        if now >= closes:
            return say("guide.status.connect_late", SECRETARY, "connect", "fault", until=w(closes))
        if not f.session_passed:     # item 13 broken: connect all the same, but say so
            return say("guide.status.connect_no_session", SECRETARY, "connect", "fault", until=w(closes))
        return say("guide.status.connect_now", SECRETARY, "connect", "ok", until=w(closes))
    deadline = h.start - f.session_before_s
    if not f.session_passed:
        if now >= deadline:
            return say("guide.status.session_breach", TECHNICIAN, "test_session", "fault", deadline=w(deadline))
        return say("guide.status.session_due", TECHNICIAN, "test_session", "info", deadline=w(deadline))
    if not_ready:
        return say("guide.status.not_ready", TECHNICIAN, "fix", "fault", reasons=reasons)
    if f.readiness:
        return say("guide.status.ready", SECRETARY, "connect", "ok", opens=w(opens), until=w(closes))
    selftest_at = f.selftest_at if f.selftest_at is not None else opens
    return say("guide.status.waiting_selftest", SECRETARY, "connect", "info", selftest=w(selftest_at), opens=w(opens),
               until=w(closes))


def facts(life, h) -> Facts:
    """What the lifecycle knows of hearing ``h`` now."""
    running = life.running_session()
    calling = life.dialler.calling
    return Facts(
        session_passed=life.ledger.passed(h.id) is not None,
        session_running=bool(running and running.get("hearing_id") == h.id),
        readiness=life.schedule.readiness_for(h.id),
        selftest_at=life.selftest_at(h),
        # the room's self-test is this hearing's once its time has come (the planner's, or one run by hand then)
        selftest_running=life.room.readiness().activity == "selftest" and life.clock.now() >= life.selftest_at(h),
        dialling=calling in ((h.id, "connect"), (h.id, "reconnect")),
        connected=life.connected(h.id),
        under_way=life.on_hearing() == h.id,
        ended=life.history.ended(h.id),
        act=bool(life.acts.for_hearing(h.id)),
        suspended=life.suspended or "",
        cancelled=h.status != "scheduled",
        session_before_s=life.settings.warn_before_s,
        window_opens_s=life.settings.connect_window_s,
    )


def for_hearing(life, h) -> Guide:
    """The guide of hearing ``h`` on the room's clock."""
    return guide(h, facts(life, h), life.clock.now(), life.schedule.tz)


def suspension(life, readiness) -> dict | None:
    """VKS suspended (item 24): the banner's code and parameters (the reason, since when, who set
    it: the ``by`` of vks.suspend when the centre named someone, a staff role by its name, else
    the centre, which alone may send it), from the room's readiness; None when not suspended."""
    reason = getattr(readiness, "suspended", "")
    if not reason:
        return None
    rows = life.parts.store.query("SELECT at FROM room_log WHERE kind='vks.suspended' ORDER BY id DESC LIMIT 1")
    now = life.clock.now()
    since = rows[0]["at"] if rows else readiness.measured_at
    by = getattr(life.parts.room, "suspended_by", "") or "centre"
    who = tx.person(by)
    return {"code": "suspension.banner", "params": {"reason": reason, "since": when(since, now, life.schedule.tz),
                                                   "who": who}}


def _bar(value: float, limit: float) -> dict:
    return {"value": round(max(0.0, min(value, limit)), 1), "max": round(limit, 1)}


def selftest_progress(room) -> dict | None:
    """The self-test under way for a page: code, parameters, a bar, and per device done/ok."""
    p = room.selftest_progress() if hasattr(room, "selftest_progress") else None
    if not p:
        return None
    devices = p["devices"]
    done = sum(1 for d in devices.values() if d["done"])
    return {"code": "live.selftest", "params": {"done": done, "total": len(devices)},
            "bar": _bar(p["elapsed_s"], p["deadline_s"]), "devices": devices}


def progress(life, h) -> dict:
    """What is under way for hearing ``h`` now (the page's live part): the test session's step and
    the call, each as a code with parameters and, for long work, a bar (value of max seconds)."""
    out: dict = {"session": None, "call": None, "selftest": None}
    running = life.running_session()
    if not (running and running.get("hearing_id") == h.id):
        out["selftest"] = selftest_progress(life.room)     # the room's self-test (before this hearing, say)
    if running and running.get("hearing_id") == h.id:
        step, now = running.get("step", "selftest"), life.clock.now()
        entry = {"code": SESSION_CODES[step], "params": {"far_side": h.far_side.name}, "step": step, "bar": None}
        if step == "selftest":
            test = selftest_progress(life.room)
            entry["bar"] = test["bar"] if test else None
        elif step == "calling":
            call = life.dialler.progress()
            entry["bar"] = _bar(call["waited_s"], call["timeout_s"]) if call else None
        elif step == "holding":
            hold = running.get("hold_s") or 0
            entry["params"]["seconds"] = round(hold)
            entry["bar"] = _bar(now - running.get("step_at", now), hold)
        out["session"] = entry
    call = life.dialler.progress()
    if call and call["hearing_id"] == h.id and call["purpose"] != "test":
        out["call"] = {"code": "live.call.dialling", "state": "dialling", "bar": _bar(call["waited_s"], call["timeout_s"]),
                       "params": {"far_side": h.far_side.name, "seconds": round(call["waited_s"]),
                                  "timeout": round(call["timeout_s"])}}
    elif life.connected(h.id):
        out["call"] = {"code": "live.call.connected", "state": "connected", "bar": None,
                       "params": {"far_side": h.far_side.name}}
    else:
        out["call"] = {"code": "live.call.none", "state": "none", "bar": None, "params": {}}
    return out
