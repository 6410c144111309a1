"""A small, real stand-in for the room controller: the interface MqttLink follows.

``events`` is the real EventBus, ``readiness()`` the real Readiness value, and
``command()`` changes state (suspend/resume, hearings) or refuses (``Refused``, a
catalogued sentence), as the controller does.
"""
from __future__ import annotations

import threading
import time

from vksroom.controller.events import Event, EventBus
from vksroom.controller.model import CheckResult, DeviceState, Readiness, RoomState
from vksroom.controller.texts import Refused


class RoomStub:
    def __init__(self, court_id: str = "almaty-01", courtroom: str = "101", valid_s: float = 600.0):
        self.events = EventBus()
        self._lock = threading.Lock()
        self.valid_s = valid_s
        cam = DeviceState.from_checks("cam_judge", "camera", True, [
            CheckResult("cam_judge", "link", True, value={"rtt_ms": 4.2}),
            CheckResult("cam_judge", "picture", True, value={"sharpness": 812.5, "brightness": 121.0}),
        ], label="Judge camera")
        self._readiness = Readiness(court_id, courtroom, RoomState.READY, (cam,),
                                    valid_until=time.time() + valid_s)
        self.hearings: dict[str, dict] = {}
        self.calls: list[tuple[str, dict]] = []
        self.hold: set[str] = set()          # commands that wait for ``release`` (a slow controller)
        self.release = threading.Event()
        self.holding = threading.Event()     # a held command is waiting

    def readiness(self) -> Readiness:
        with self._lock:
            return self._readiness

    def set_state(self, state: RoomState, reasons=(), activity: str = "") -> Readiness:
        now = time.time()
        with self._lock:
            self._readiness = self._readiness.replace(state=state, reasons=tuple(reasons), activity=activity,
                                                      measured_at=now, valid_until=now + self.valid_s)
            r = self._readiness
        self.events.publish(Event("readiness", r.to_dict()))
        return r

    def emit(self, kind: str, **data) -> Event:
        event = Event(kind, data)
        self.events.publish(event)
        return event

    def command(self, name: str, args: dict) -> dict:
        self.calls.append((name, args))
        if name in self.hold:
            self.holding.set()
            self.release.wait(30)
        if name == "vks.suspend":
            self.set_state(RoomState.SUSPENDED, [f"suspended by the centre: {args.get('reason', '')}"])
            return {"state": "suspended"}
        if name == "vks.resume":
            self.set_state(RoomState.READY)
            return {"state": "ready"}
        if name == "status.send":
            return {"state": self.readiness().state.value}
        if name == "selftest.run":
            run_id = f"run-{len(self.calls)}"
            self.emit("selftest.started", run_id=run_id, trigger="centre")
            return {"run_id": run_id}
        if name in ("hearing.create", "hearing.update", "hearing.cancel"):
            hid = args.get("hearing_id")
            if not isinstance(hid, str) or not hid:
                raise Refused("refused.arg_missing", field="hearing_id")
            if name == "hearing.create":
                if hid in self.hearings:
                    raise ValueError(f"hearing {hid} already exists")
                self.hearings[hid] = dict(args)
            elif hid not in self.hearings:
                raise Refused("refused.no_hearing")
            elif name == "hearing.update":
                self.hearings[hid].update(args)
            else:
                del self.hearings[hid]
            return {"hearing_id": hid}
        raise Refused("refused.unknown_command")
