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
    """One check of one device. ``reason`` is plain English for logs and MQTT;
    ``code`` and ``params`` let the panel say the same in Kazakh or Russian."""

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

    def to_dict(self) -> dict:
        return {
            "check": self.check,
            "ok": self.ok,
            "reason": self.reason,
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
    def from_checks(cls, id: str, kind: str, required: bool, checks, label: str = "", since: float | None = None):
        checks = tuple(checks)
        failed = [c for c in checks if not c.ok]
        health = Health.UNKNOWN if not checks else (Health.FAULT if failed else Health.OK)
        reason = "; ".join(f"{c.check}: {c.reason}" for c in failed)
        return cls(id, kind, required, health, reason, checks, since or time.time(), label)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "required": self.required,
            "health": self.health.value,
            "reason": self.reason,
            "since": self.since,
            "checks": [c.to_dict() for c in self.checks],
            "values": self.values,
        }


def verdict(devices) -> tuple[RoomState, list[str]]:
    """The room state implied by device health, with reasons naming each failed device."""
    reasons, state = [], RoomState.READY
    for d in devices:
        if d.health is Health.FAULT:
            reasons.append(f"{d.id}: {d.reason}" if d.reason else d.id)
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
