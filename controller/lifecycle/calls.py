"""Calls through the room's codec (rule items 15 and 22): dialling with a deadline, the call
state read on the clock while it is set up, hanging up. One attempt at a time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from vksroom.controller.texts import Refused
from vksroom.controller.lifecycle.base import Parts, log
from vksroom.controller.schedule import iso_utc
from vksroom.controller.clock import Timer


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

    def quality(self) -> dict | None:
        """The call's figures now (None: no call, or a codec without statistics)."""
        try:
            return self.room.run_on(self.device_id, lambda a: a.call_quality(), timeout=self.timeout)
        except Exception as exc:
            log.debug("no call statistics from %s: %s", self.device_id, exc)
            return None


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
    last_state: str = "connecting"   # the codec's call state, or dial_failed / unknown (a key)
    detail: str = ""                 # why, technically (the driver's error): the log's and the technician's
    timer: Timer | None = None


class Dialler:
    def __init__(self, parts: Parts, calls: CallControl | None):
        self.p = parts
        self.calls = calls
        self._attempt: _Attempt | None = None

    @property
    def device_id(self) -> str:
        return getattr(self.calls, "device_id", "codec")

    @property
    def calling(self) -> tuple[str, str] | None:
        """The attempt under way: (hearing id, purpose: connect | reconnect | test), else None."""
        attempt = self._attempt
        return (attempt.hearing_id, attempt.purpose) if attempt is not None else None

    def progress(self) -> dict | None:
        """The attempt under way for a page: hearing, purpose, seconds waited of the deadline, the codec's last word."""
        attempt = self._attempt
        if attempt is None:
            return None
        return {"hearing_id": attempt.hearing_id, "purpose": attempt.purpose, "state": attempt.last_state,
                "waited_s": self.p.clock.now() - attempt.dialled_at, "timeout_s": attempt.deadline - attempt.dialled_at}

    @property
    def busy(self) -> bool:
        return self._attempt is not None

    def require(self) -> CallControl:
        """The codec that places calls; refused when the room has none."""
        if self.calls is None:
            raise Refused("refused.no_codec")
        return self.calls

    def stop(self) -> None:
        with self.p.lock:
            if self._attempt and self._attempt.timer:
                self._attempt.timer.cancel()

    def state(self) -> str:
        return self.require().state()

    def hangup(self) -> None:
        """End every call; a failure is logged (the call may be gone already)."""
        try:
            if self.calls is not None:
                self.calls.hangup()
        except Exception as exc:
            log.warning("hang-up failed: %s", exc)

    def dial(self, hid: str, number: str, purpose: str, done: Callable[[bool, dict], None]) -> None:
        """Dial ``number``; ``done(ok, info)`` is called once it answered or the deadline passed."""
        now = self.p.clock.now()
        with self.p.lock:
            if self._attempt is not None:
                raise Refused("refused.call_in_progress")
            attempt = _Attempt(hid, number, purpose, now, now + self.p.settings.call_timeout_s, done)
            self._attempt = attempt
        try:
            self.require().dial(number)
        except Exception as exc:
            attempt.last_state, attempt.detail = "dial_failed", str(exc) or type(exc).__name__
            log.warning("dialling %s failed: %s", number, exc)
            self._finish(attempt, False)
            return
        self._poll(attempt, first=True)

    def _poll(self, attempt: _Attempt, first: bool = False) -> None:
        if not first:
            try:
                attempt.last_state = self.require().state()
            except Exception as exc:
                attempt.last_state, attempt.detail = "unknown", str(exc) or type(exc).__name__
            if attempt.last_state == "connected":
                self._finish(attempt, True)
                return
            if self.p.clock.now() >= attempt.deadline:
                self._finish(attempt, False)
                return
        when = min(attempt.deadline, self.p.clock.now() + self.p.settings.call_poll_s)
        attempt.timer = self.p.clock.call_at(when, self._poll, attempt, name=f"call-{attempt.hearing_id}")

    def _finish(self, attempt: _Attempt, ok: bool) -> None:
        with self.p.lock:
            if self._attempt is attempt:
                self._attempt = None
        now = self.p.clock.now()
        info = {"number": attempt.number, "purpose": attempt.purpose, "dialled_at": iso_utc(attempt.dialled_at),
                "waited_s": now - attempt.dialled_at, "state": attempt.last_state,
                **({"detail": attempt.detail} if attempt.detail else {})}
        if ok:
            info["connected_at"] = iso_utc(now)
        else:
            try:
                self.require().hangup()   # stop ringing the far side
            except Exception:
                pass
        attempt.done(ok, info)
        self.p.notify()
