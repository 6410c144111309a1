"""Events the controller announces. The panel and the MQTT link follow them; the
controller knows neither.

Handlers run on the thread that publishes (the room's owner thread): they must return
quickly, handing work to their own thread or queue.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger(__name__)

# Kinds of event. Adapters may ignore kinds they do not know.
READINESS = "readiness"            # data: Readiness.to_dict()
DEVICE_FAULT = "fault"             # data: device, check, code, params, reason (room language), text, detail
DEVICE_RECOVERED = "recovered"     # data: device
SELFTEST_STARTED = "selftest.started"    # data: run_id, trigger
SELFTEST_FINISHED = "selftest.finished"  # data: run_id, state, reasons

# The hearing lifecycle (controller/lifecycle.py). Every payload names hearing_id where there is one.
HEARING_CREATED = "hearing.created"        # data: hearing (dict), conflicts
HEARING_UPDATED = "hearing.updated"        # data: hearing, conflicts
HEARING_CANCELLED = "hearing.cancelled"    # data: hearing_id, version
HEARING_REJECTED = "hearing.rejected"      # data: hearing_id, action, errors (sentences), codes, detail
HEARING_CONFLICT = "hearing.conflict"      # data: hearing_id, conflicts (overlap accepted from the centre)
HEARING_READINESS = "hearing.readiness"    # data: hearing_id, state, reasons, run_id, trigger
HEARING_STARTED = "hearing.started"        # data: hearing_id, case_number
HEARING_ENDED = "hearing.ended"            # data: hearing_id, reason
HEARING_CONNECTION = "hearing.connection"  # data: hearing_id, state (started|ended|failed), number, seconds
TEST_SESSION_RECORDED = "test_session.recorded"  # data: hearing_id, session (dict)
TEST_SESSION_MISSING = "test_session.missing"    # data: hearing_id, case_number, start, hours_left
ALARM_RAISED = "alarm.raised"              # data: alarm (dict: id, key, level, message, evidence...)
ALARM_CLEARED = "alarm.cleared"            # data: alarm, why
FAULT_MARKED = "fault.marked"              # data: alarm, mark (fixing|fixed|cannot_be_fixed), by, note
FIRST_AID = "first_aid"                    # data: device, action (power_off|power_on|worked|failed), reason
CALL_QUALITY = "call.quality"              # data: hearing_id, device, quality (rate-limited)
BREAK_RECOMMENDED = "break.recommended"    # data: hearing_id, device, check, code, params, reason, seconds
BREAK_WITHDRAWN = "break.withdrawn"        # data: hearing_id, device, check (the break's), restored_by
ACT_CREATED = "act.created"                # data: act_id, hearing_id, facts


@dataclass(frozen=True)
class Event:
    kind: str
    data: dict
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "ts": self.ts, "data": self.data}


class EventBus:
    def __init__(self):
        self._handlers: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, handler: Callable[[Event], None]) -> Callable[[], None]:
        with self._lock:
            self._handlers.append(handler)

        def unsubscribe():
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            try:
                handler(event)
            except Exception:  # one broken follower must not stop the room
                log.exception("event handler %r failed on %s", handler, event.kind)
