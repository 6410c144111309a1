"""Test sessions (rule item 13): the technician's test with the far side, at least 24 h before
the hearing: every device check and a test call held for a while, recorded in the ledger."""
from __future__ import annotations

import threading

from vksroom.controller.texts import Refused, say
from vksroom.controller import events as ev
from vksroom.controller.lifecycle.base import Parts, log
from vksroom.controller.model import RoomState


# why a test call did not connect, by the dialler's call state: a codec that could not place the
# call is no far side that did not answer
_NOT_CONNECTED = {"dial_failed": "session.not_called"}


class Sessions:
    def __init__(self, parts: Parts, life):
        self.p = parts
        self.life = life
        self.running: dict | None = None     # the test session being run

    def run(self, hid: str, technician: str) -> int:
        """Run a test session; returns once its self-test is done and the test call placed."""
        sid, h = self._begin(hid, technician)
        self._carry_on(sid, h)
        return sid

    def start(self, hid: str, technician: str) -> int:
        """Begin a test session and return at once (refusals still raise here); the rest runs
        on its own thread, its steps readable in ``running`` (for a page that follows it)."""
        sid, h = self._begin(hid, technician)
        threading.Thread(target=self._carry_on_safely, args=(sid, h), name=f"test-session-{sid}", daemon=True).start()
        return sid

    def _carry_on_safely(self, sid: int, h) -> None:
        try:
            self._carry_on(sid, h)
        except Exception as exc:     # the session must not stay "running" for ever
            log.exception("test session %s crashed", sid)
            self._finish(sid, h.id, None, {"state": f"internal error: {type(exc).__name__}",
                                           "code": "session.not_called"})

    def _step(self, sid: int, step: str, after: str | None = None, **more) -> None:
        """The session's step: selftest | calling | holding (with when it began); ``after``: only
        if the session is still at that step."""
        with self.p.lock:
            if self.running and self.running["id"] == sid and after in (None, self.running["step"]):
                self.running = {**self.running, "step": step, "step_at": self.p.clock.now(), **more}
        self.p.notify()

    def _begin(self, hid: str, technician: str):
        life = self.life
        h = life.hearing(hid)
        life.planner.not_suspended()
        with self.p.lock:
            if self.running is not None:
                raise Refused("refused.session_running")
            sid = life.ledger.begin(hid, technician, h.far_side.to_dict())
            self.running = {"id": sid, "hearing_id": hid, "step": "selftest", "step_at": self.p.clock.now()}
        self.p.log("test_session.started", hid, technician, {"session": sid})
        return sid, h

    def _carry_on(self, sid: int, h) -> None:
        life, hid = self.life, h.id
        try:
            run = self.p.room.selftest("test-session")
        except (ValueError, TimeoutError) as exc:
            self._finish(sid, hid, None, {"state": "not_called", "code": "session.not_called", "detail": str(exc)})
            return
        if life.dialler.calls is None:
            self._finish(sid, hid, run, {"state": "not_called", "code": "refused.no_codec"})
            return

        def called(ok: bool, info: dict) -> None:
            if ok:
                self._step(sid, "holding", hold_s=self.p.settings.test_call_hold_s)

                def hang():
                    reading = getattr(life.dialler.calls, "quality", None)   # a stand-in may have none
                    info["quality"] = reading() if reading else None
                    life.dialler.hangup()
                    info["held_s"] = self.p.settings.test_call_hold_s
                    self._finish(sid, hid, run, info, True)
                self.p.clock.call_later(self.p.settings.test_call_hold_s, hang, name=f"test-call-{sid}")
            else:
                self._finish(sid, hid, run, info, False)

        try:
            life.dialler.dial(hid, h.far_side.number, "test", called)
        except ValueError as exc:
            self._finish(sid, hid, run, {"state": "not_called", "code": "session.not_called", "detail": str(exc)})
            return
        # Said once the call is placed and its deadline planned (not before: a page, or a test
        # moving the clock, would see "calling" with no call to wait for); never over "holding".
        self._step(sid, "calling", after="selftest")

    def abort(self, why: str) -> None:
        """VKS suspended: the session under way ends as aborted."""
        with self.p.lock:
            session, self.running = self.running, None
        if session:
            try:
                self.life.ledger.finish(session["id"], "aborted", [], {}, {}, why)
            except ValueError:
                pass

    def _finish(self, sid: int, hid: str, run: dict | None, call: dict, connected: bool = False) -> None:
        results = self.p.store.results(run["run_id"]) if run else []
        checks = [{"device": r.device, **r.to_dict()} for r in results]
        evidence = {
            "selftest_run": run["run_id"] if run else None,
            "snapshots": [r.params["snapshot"] for r in results if isinstance(r.params, dict) and r.params.get("snapshot")],
            "meters": {f"{r.device}.{r.check}": r.value for r in results if isinstance(r.value, (int, float))
                       and not isinstance(r.value, bool)},
            "call_seconds": round(call.get("waited_s", 0), 1) if connected else None,
            "call_quality": call.get("quality"),
        }
        devices_ok = run is not None and run["state"] in (RoomState.READY.value, RoomState.DEGRADED.value)
        result = "passed" if devices_ok and connected else "failed"
        # The notes people read, in the room's language; the call's own state stays in ``call``.
        notes = "" if result == "passed" else ". ".join(
            ([] if devices_ok else [say("session.devices", {"reasons": "; ".join(run["reasons"])})
                                    if run and run["reasons"] else say("session.not_checked")])
            + ([] if connected else [say(call.get("code")
                                         or _NOT_CONNECTED.get(str(call.get("state")), "session.no_answer"))]))
        with self.p.lock:
            if self.running and self.running["id"] == sid:
                self.running = None
        try:
            session = self.life.ledger.finish(sid, result, checks, call, evidence, notes)
        except ValueError:   # aborted meanwhile (suspension)
            return
        self.recorded(session)

    def record(self, hid: str, technician: str, result: str, notes: str = "") -> dict:
        """A test session held by other means, recorded by the technician."""
        h = self.life.hearing(hid)
        session = self.life.ledger.record(hid, technician, h.far_side.to_dict(), result, notes, {"entered": "panel"})
        self.recorded(session)
        return session.to_dict()

    def recorded(self, session) -> None:
        self.p.log("test_session.recorded", session.hearing_id, session.technician,
                   {"session": session.id, "result": session.result})
        self.p.publish(ev.TEST_SESSION_RECORDED, {"hearing_id": session.hearing_id, "session": session.to_dict()})
        if session.passed:
            self.life.incidents.clear(key=f"test_session:{session.hearing_id}", why="alarm.closed.session_passed")
        self.p.notify()
