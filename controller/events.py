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
DEVICE_FAULT = "fault"             # data: device, reason, checks
DEVICE_RECOVERED = "recovered"     # data: device
SELFTEST_STARTED = "selftest.started"    # data: run_id, trigger
SELFTEST_FINISHED = "selftest.finished"  # data: run_id, state, reasons


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
