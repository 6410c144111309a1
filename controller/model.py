"""The room's facts as immutable values: check results, device states, readiness.

Everything the panel shows and MQTT publishes is built from these; ``to_dict()`` gives
the JSON form (one shape for the CLI, the panel's API and the MQTT payload).
"""
from __future__ import annotations

import dataclasses
import enum
import time
from dataclasses import dataclass, field
from typing import Any

from vksroom.controller import texts as tx


# The live check every device's coordinator keeps: did the last poll succeed?
ONLINE_CHECK = "online"


class RoomState(str, enum.Enum):
    UNKNOWN = "unknown"        # nothing measured yet
    READY = "ready"            # every device passed
    DEGRADED = "degraded"      # an optional device failed
    NOT_READY = "not_ready"    # a required device failed
    TESTING = "testing"        # a self-test or test session is running
    IN_HEARING = "in_hearing"  # a hearing is on
    SUSPENDED = "suspended"    # VKS suspended by the centre (rule item 24)


class Health(str, enum.Enum):
    OK = "ok"
    FAULT = "fault"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CheckResult:
    """One check of one device, said by ``code`` and ``params`` (people-safe: labels, numbers;
    see :mod:`vksroom.controller.texts`). ``detail`` holds the technical facts (a driver's
    error, a path) for the log and the technician; no sentence is made from it. The
    ``reason`` attribute is an English fallback for logs; when none is given a failed check
    gets the catalogue's English sentence."""

    device: str
    check: str
    ok: bool
    reason: str = ""
    value: Any = None
    code: str = ""
    params: dict = field(default_factory=dict)
    duration_s: float = 0.0
    at: float = field(default_factory=time.time)
    detail: str = ""          # technical detail (driver error...) for the log and the technician
    live: bool = False        # kept by the device's poll (not a self-test's finding)

    def __post_init__(self):
        if not self.reason and not self.ok:
            object.__setattr__(self, "reason", self.sentence("en"))

    def sentence(self, lang: str | None = None) -> str:
        """What this check says, in ``lang`` (default: the room's language)."""
        return tx.say(self.code, self.params, lang, ok=self.ok)

    def texts(self) -> dict:
        return tx.texts(self.code, self.params, ok=self.ok)

    def to_dict(self) -> dict:
        failed = not self.ok
        return {
            "check": self.check,
            "ok": self.ok,
            "reason": self.sentence() if failed else "",
            "text": self.texts() if failed else {},
            "value": self.value,
            "code": self.code,
            "params": self.params,
            "detail": self.detail,
            "live": self.live,
            "duration_s": round(self.duration_s, 3),
            "at": self.at,
        }


@dataclass(frozen=True)
class DeviceState:
    """What the room knows of one device: derived from its latest checks."""

    id: str
    kind: str
    required: bool
    health: Health = Health.UNKNOWN
    reason: str = ""
    checks: tuple[CheckResult, ...] = ()
    since: float = field(default_factory=time.time)
    label: str | dict = ""
    values: dict = field(default_factory=dict)   # what the last poll read (power, call, mutes, levels...)

    @classmethod
    def from_checks(cls, id: str, kind: str, required: bool, checks, label: str | dict = "",
                    since: float | None = None):
        label = label or tx.default_label(kind)
        # every sentence names the device by its label (a check made without one gets it here)
        checks = tuple(c if c.params.get("device") else dataclasses.replace(c, params={**c.params, "device": label})
                       for c in checks)
        failed = [c for c in checks if not c.ok]
        health = Health.UNKNOWN if not checks else (Health.FAULT if failed else Health.OK)
        state = cls(id, kind, required, health, "", checks, since or time.time(), label)
        return dataclasses.replace(state, reason=state.reason_in())

    def reason_in(self, lang: str | None = None) -> str:
        """Why the device is at fault, in ``lang``: one line naming it by its label ("" when ok)."""
        return device_line(tx.pick(self.label, lang or tx.DEFAULT_LANG),
                           [c.sentence(lang) for c in self.checks if not c.ok])

    def to_dict(self) -> dict:
        faulty = any(not c.ok for c in self.checks)
        return {
            "id": self.id,
            "kind": self.kind,
            "label": tx.pick(self.label, tx.DEFAULT_LANG),
            "label_text": tx.label_texts(self.label),
            "required": self.required,
            "health": self.health.value,
            "reason": self.reason,
            "text": {lang: self.reason_in(lang) for lang in tx.LANGS} if faulty else {},
            "since": self.since,
            "checks": [c.to_dict() for c in self.checks],
            "values": self.values,
        }


def device_line(label: str, sentences: list[str]) -> str:
    """One line for a device's failed checks: its label, then the sentences. A sentence that
    starts with the label and a colon gives it up ("Кодек: A; B", not "Кодек: Кодек: A; Кодек: B");
    a first sentence that names the device itself leads ("Камера судьи не отвечает; ..."); a
    sentence said twice is said once."""
    sentences = list(dict.fromkeys(sentences))      # the poll and the self-test may say the same
    if not sentences:
        return ""
    head = f"{label}: "
    rest = [s[len(head):] if s.startswith(head) else s for s in sentences]
    if not sentences[0].startswith(head) and sentences[0].startswith(label):
        return "; ".join(rest)
    return head + "; ".join(rest)


def verdict(devices) -> tuple[RoomState, list[str]]:
    """The room state implied by device health, with reasons naming each failed device."""
    reasons, state = [], RoomState.READY
    for d in devices:
        if d.health is Health.FAULT:
            reasons.append(d.reason or tx.pick(d.label, tx.DEFAULT_LANG))
            state = RoomState.NOT_READY if d.required else (state if state is RoomState.NOT_READY else RoomState.DEGRADED)
        elif d.health is Health.UNKNOWN and state is RoomState.READY:
            state = RoomState.UNKNOWN
    return state, reasons


@dataclass(frozen=True)
class Readiness:
    """The room's readiness: the document the panel shows and MQTT publishes retained."""

    court_id: str
    courtroom: str
    state: RoomState
    devices: tuple[DeviceState, ...]
    reasons: tuple[str, ...] = ()
    measured_at: float = field(default_factory=time.time)
    valid_until: float | None = None
    activity: str = ""  # what the room is doing now: "", "selftest", "hearing"
    # Whether the devices are fit, whatever the room is doing (a hearing never hides a fault):
    # ready | degraded | not_ready | unknown.
    verdict: RoomState = RoomState.UNKNOWN
    suspended: str = ""   # the centre's words when VKS is suspended (rule item 24)

    def reason_lines(self, lang: str | None = None) -> list[str]:
        """``reasons`` in ``lang``: the suspension, then one line per failed device."""
        lines = [tx.say("room.suspended", {"reason": self.suspended}, lang)] if self.suspended else []
        return lines + [d.reason_in(lang) or tx.pick(d.label, lang or tx.DEFAULT_LANG)
                        for d in self.devices if d.health is Health.FAULT]

    def device(self, device_id: str) -> DeviceState | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def replace(self, **changes) -> "Readiness":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return {
            "court_id": self.court_id,
            "courtroom": self.courtroom,
            "state": self.state.value,
            "reasons": list(self.reasons),
            "measured_at": self.measured_at,
            "valid_until": self.valid_until,
            "activity": self.activity,
            "verdict": self.verdict.value,
            "devices": {d.id: d.to_dict() for d in self.devices},
        }
