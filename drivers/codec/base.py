"""The common codec interface: what the room needs from any videoconference codec.

A driver (one file per model) turns its wire protocol into these facts: the calls and
their normalised state, the diagnostics level, the microphone mute. Call progress
arrives as feedback lines on the driver's reader thread and is kept here under one
condition, so :meth:`Codec.test_call` waits for it without polling.
"""
from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

from vksroom.drivers.codec.quality import CallQuality
from vksroom.drivers.errors import DeviceError, DeviceRejected
from vksroom.drivers.line import LineClient, LineDevice

log = logging.getLogger(__name__)

# normalised call states
IDLE, DIALLING, RINGING, CONNECTING, CONNECTED, DISCONNECTING = (
    "idle", "dialling", "ringing", "connecting", "connected", "disconnecting")
# normalised end causes
BUSY, NO_ANSWER, REMOTE_HANGUP, LOCAL_HANGUP, REJECTED, UNREACHABLE, FAILED = (
    "busy", "no_answer", "remote_hangup", "local_hangup", "rejected", "unreachable", "failed")

DIAG_LEVELS = ("Ok", "Warning", "Error", "Critical")


@dataclass
class Call:
    id: str
    remote: str = ""
    state: str = DIALLING
    direction: str = "outgoing"
    started: float = field(default_factory=time.monotonic)
    connected_at: float | None = None
    ended_at: float | None = None
    cause: str = ""          # one of the end causes above, once ended
    cause_text: str = ""     # the device's own words

    def held_s(self) -> float:
        """Seconds the call was up: till it ended, or till now while it is; 0 if it never connected."""
        if self.connected_at is None:
            return 0.0
        end = time.monotonic() if self.ended_at is None else self.ended_at
        return round(end - self.connected_at, 3)

    def to_dict(self) -> dict:
        return {"id": self.id, "remote": self.remote, "state": self.state, "direction": self.direction,
                "cause": self.cause, "cause_text": self.cause_text}


@dataclass
class TestCallResult:
    """What a test call showed: ``ok``, the far end, time to connect, or why it failed."""

    ok: bool
    far_end: str
    reason: str
    code: str = ""                   # connected | busy | no_answer | dropped | rejected | error
    time_to_connect_s: float | None = None
    held_s: float | None = None
    quality: list[CallQuality] = field(default_factory=list)   # read while the call was held


class Codec(LineDevice, ABC):
    """A codec behind a :class:`LineClient`. Subclasses feed call and diagnostics facts
    in through :meth:`_call_update`, :meth:`_call_ended` and :attr:`diagnostics`."""

    model = "codec"

    def __init__(self, line: LineClient, timeout: float = 3.0):
        super().__init__(line)
        self.timeout = timeout
        self._cond = threading.Condition()
        self.calls: dict[str, Call] = {}
        self.ended: dict[str, Call] = {}
        self.diagnostics: list[dict] = []     # [{"level", "type", "description"}]
        self.diagnostics_known = False
        self.mic_muted: bool | None = None
        self.logged_in = False


    # --- what every model implements -------------------------------------------------

    def refresh_diagnostics(self) -> list[dict]:
        """Read the codec's diagnostics anew; a model whose API reports none refuses."""
        raise DeviceRejected(f"{self.model} reports no diagnostics over its API", code="unsupported")

    def call_quality(self) -> CallQuality | None:
        """The connected call's statistics now, in the neutral model; ``None`` with no call up."""
        raise DeviceRejected(f"{self.model} reports no call statistics over its API", code="unsupported")

    def connected_call(self) -> Call | None:
        with self._cond:
            return next((c for c in self.calls.values() if c.state == CONNECTED), None)

    @abstractmethod
    def refresh(self) -> dict:
        """A light status query that proves the codec answers; returns :meth:`status`."""

    @abstractmethod
    def dial(self, number: str) -> str:
        """Place a call; returns its call id. Raises DeviceRejected if refused."""

    @abstractmethod
    def hangup(self, call_id: str | None = None) -> None:
        """End one call, or all calls."""

    @abstractmethod
    def set_mic_mute(self, muted: bool) -> None: ...

    # --- shared ----------------------------------------------------------------------

    @property
    def diagnostics_level(self) -> str:
        if not self.diagnostics_known:
            return "Unknown"
        worst = 0
        for msg in self.diagnostics:
            level = msg.get("level", "Ok")
            worst = max(worst, DIAG_LEVELS.index(level) if level in DIAG_LEVELS else 1)
        return DIAG_LEVELS[worst]

    def call_state(self) -> str:
        with self._cond:
            active = [c for c in self.calls.values()]
        if not active:
            return IDLE
        order = (CONNECTED, CONNECTING, RINGING, DIALLING, DISCONNECTING)
        return min((c.state for c in active), key=lambda s: order.index(s) if s in order else 9)

    def status(self) -> dict:
        with self._cond:
            calls = [c.to_dict() for c in self.calls.values()]
        return {
            "model": self.model,
            "connected": self.connected,
            "logged_in": self.logged_in and self.connected,
            "call": self.call_state(),
            "calls": calls,
            "diagnostics": self.diagnostics_level,
            "diagnostics_messages": list(self.diagnostics),
            "mic_muted": self.mic_muted,
            "link_noise": self.line.degraded(),
        }

    def _call_update(self, call_id: str, state: str | None = None, remote: str | None = None,
                     direction: str | None = None) -> None:
        with self._cond:
            call = self.calls.get(call_id)
            if call is None:
                if call_id in self.ended:
                    return      # a late line about a call that already ended
                call = self.calls[call_id] = Call(call_id)
            changed = False
            if state and state != call.state:
                call.state, changed = state, True
                if state == CONNECTED and call.connected_at is None:
                    call.connected_at = time.monotonic()
            if remote:
                call.remote = remote
            if direction:
                call.direction = direction
            self._cond.notify_all()
        if changed:
            self._emit({"kind": "call", **call.to_dict()})

    def _call_ended(self, call_id: str, cause: str = "", cause_text: str = "") -> None:
        with self._cond:
            call = self.calls.pop(call_id, None) or self.ended.get(call_id) or Call(call_id)
            call.state = IDLE
            if call.ended_at is None:
                call.ended_at = time.monotonic()
            if cause and not call.cause:
                call.cause, call.cause_text = cause, cause_text
            self.ended[call_id] = call
            while len(self.ended) > 50:
                self.ended.pop(next(iter(self.ended)))
            self._cond.notify_all()
        self._emit({"kind": "call", **call.to_dict()})

    def _calls_cleared(self) -> None:
        """The codec says it has no calls at all (a status query found none)."""
        for call_id in list(self.calls):
            self._call_ended(call_id)

    def wait_call(self, call_id: str, predicate: Callable[[Call | None, Call | None], bool], timeout: float) -> bool:
        """Wait until ``predicate(active_call, ended_call)`` holds or ``timeout`` passes."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.calls.get(call_id), self.ended.get(call_id)),
                                       max(0.0, timeout))

    def test_call(self, number: str, connect_timeout: float = 30.0, hold_s: float = 5.0,
                  cancelled: threading.Event | None = None) -> TestCallResult:
        """Call ``number``, wait for Connected, hold ``hold_s``, hang up; say what happened."""
        t0 = time.monotonic()
        try:
            call_id = self.dial(number)
        except DeviceError as exc:
            return TestCallResult(False, number, f"the codec refused to dial {number}: {exc}", "rejected")

        def settled(active, ended):
            return ended is not None or (active is not None and active.state == CONNECTED) or \
                bool(cancelled and cancelled.is_set())

        self.wait_call(call_id, settled, connect_timeout)
        with self._cond:
            active, ended = self.calls.get(call_id), self.ended.get(call_id)
        if ended is not None:
            ended = self._wait_cause(call_id)
            if ended.connected_at is not None:
                return TestCallResult(False, number, f"call to {number} dropped right after connecting"
                                      + _cause_words(ended), "dropped",
                                      round(ended.connected_at - t0, 3), ended.held_s())
            return _not_connected(number, ended, time.monotonic() - t0)
        if active is None or active.state != CONNECTED or active.connected_at is None:
            self._hangup_quietly(call_id)
            if cancelled is not None and cancelled.is_set():
                return TestCallResult(False, number, f"test call to {number} cancelled", "cancelled")
            return TestCallResult(False, number, f"no answer from {number} within {connect_timeout:g} s", NO_ANSWER)
        connect_s = round(active.connected_at - t0, 3)
        dropped, quality = self._hold(call_id, hold_s, cancelled)
        with self._cond:
            ended = self.ended.get(call_id)
        if dropped and ended is not None:
            ended = self._wait_cause(call_id)
            held = ended.held_s()
            return TestCallResult(False, number, f"call to {number} connected in {connect_s:.1f} s but dropped "
                                  f"after {held:.1f} s" + _cause_words(ended), "dropped", connect_s, held, quality)
        held = active.held_s()
        try:
            self.hangup(call_id)
        except DeviceError as exc:
            return TestCallResult(False, number, f"call to {number} connected in {connect_s:.1f} s but would "
                                  f"not hang up: {exc}", "hangup_failed", connect_s, held)
        if not self.wait_call(call_id, lambda a, e: e is not None, self.timeout):
            return TestCallResult(False, number, f"call to {number} connected in {connect_s:.1f} s but was still "
                                  f"up {self.timeout:g} s after hanging up", "hangup_failed", connect_s, held)
        return TestCallResult(True, number, f"test call to {number} connected in {connect_s:.1f} s, held "
                              f"{held:.1f} s and hung up", "connected", connect_s, held, quality)

    def _hold(self, call_id: str, hold_s: float, cancelled: threading.Event | None,
              every_s: float = 1.0) -> tuple[bool, list[CallQuality]]:
        """Hold the call ``hold_s``, reading its statistics about every ``every_s`` (the
        test call's evidence); returns whether it ended meanwhile and what was read."""
        end = time.monotonic() + hold_s
        quality: list[CallQuality] = []

        def over(a, e):
            return e is not None or bool(cancelled and cancelled.is_set())

        while True:
            try:
                q = self.call_quality()
                if q is not None:
                    quality.append(q)
            except DeviceError as exc:     # a model without statistics, a slow reply: the call goes on
                log.debug("no call statistics during the test call: %s", exc)
            left = end - time.monotonic()
            if left <= 0:
                return False, quality
            if self.wait_call(call_id, over, min(every_s, left)):
                return True, quality

    def _wait_cause(self, call_id: str, timeout: float = 0.5) -> Call:
        """The end cause may follow the end of the call by a line or two: wait briefly."""
        self.wait_call(call_id, lambda a, e: e is not None and bool(e.cause), timeout)
        with self._cond:
            return self.ended[call_id]

    def _hangup_quietly(self, call_id: str) -> None:
        try:
            self.hangup(call_id)
        except DeviceError as exc:
            log.warning("hang up of call %s failed: %s", call_id, exc)
        self.wait_call(call_id, lambda a, e: e is not None, self.timeout)


def _cause_words(call: Call) -> str:
    words = {BUSY: "busy", NO_ANSWER: "no answer", REMOTE_HANGUP: "the far end hung up",
             LOCAL_HANGUP: "hung up here", REJECTED: "rejected", UNREACHABLE: "unreachable"}
    text = words.get(call.cause, call.cause_text or call.cause)
    return f" ({text})" if text else ""


def _not_connected(number: str, call: Call, elapsed: float) -> TestCallResult:
    if call.cause == BUSY:
        return TestCallResult(False, number, f"far end {number} is busy", BUSY)
    if call.cause == NO_ANSWER:
        return TestCallResult(False, number, f"no answer from {number} (rang out after {elapsed:.1f} s)", NO_ANSWER)
    if call.cause in (REJECTED, UNREACHABLE):
        return TestCallResult(False, number, f"call to {number} {call.cause}"
                              + (f": {call.cause_text}" if call.cause_text else ""), call.cause)
    return TestCallResult(False, number, f"call to {number} ended before connecting" + _cause_words(call),
                          "ended")


