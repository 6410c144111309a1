"""The test-session ledger (rule item 13): one record per test session held for a hearing.

A test session is held by the technician with the far side no later than a day before the
hearing: every device check, the call to the far side, who ran it, when, the result and
the evidence (snapshots, meter readings, how long the call took to connect, what the far
side confirmed). A session run from the panel starts ``running`` and is finished by the
planner; one held by other means is recorded in one step.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from vksroom.controller.texts import Refused
from vksroom.controller.store import Store

RESULTS = ("passed", "failed")


@dataclass(frozen=True)
class TestSession:
    __test__ = False   # not a pytest test class

    id: int
    hearing_id: str
    technician: str
    far_side: dict
    started_at: float
    finished_at: float | None
    result: str                 # running | passed | failed | aborted
    checks: list = field(default_factory=list)
    call: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    notes: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "passed"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class Ledger:
    def __init__(self, store: Store, clock):
        self.store = store
        self.clock = clock

    def begin(self, hearing_id: str, technician: str, far_side: dict) -> int:
        technician = _who(technician)
        return self.store.execute(
            "INSERT INTO test_sessions(hearing_id, technician, far_side, started_at, result, checks, call, evidence, "
            "notes) VALUES (?,?,?,?,'running','[]','{}','{}','')",
            (hearing_id, technician, json.dumps(far_side, ensure_ascii=False), self.clock()))

    def finish(self, session_id: int, result: str, checks: list, call: dict, evidence: dict, notes: str = "") -> TestSession:
        if result not in RESULTS + ("aborted",):
            raise ValueError(f"result must be passed or failed, got {result!r}")
        changed = self.store.execute(
            "UPDATE test_sessions SET finished_at=?, result=?, checks=?, call=?, evidence=?, notes=? "
            "WHERE id=? AND result='running'",
            (self.clock(), result, _json(checks), _json(call), _json(evidence), notes, session_id))
        session = self.get(session_id) if changed else None
        if session is None:
            raise ValueError(f"test session {session_id} is not running")
        return session

    def record(self, hearing_id: str, technician: str, far_side: dict, result: str, notes: str = "",
               evidence: dict | None = None) -> TestSession:
        """A session held by other means, written by the technician in one step."""
        if result not in RESULTS:
            raise ValueError(f"result must be passed or failed, got {result!r}")
        session_id = self.begin(hearing_id, technician, far_side)
        return self.finish(session_id, result, [], {}, evidence or {}, notes)

    def abort_running(self, reason: str) -> list[int]:
        """Close sessions left running (the room restarted or VKS was suspended)."""
        ids = [r["id"] for r in self.store.query("SELECT id FROM test_sessions WHERE result='running'")]
        for session_id in ids:
            self.finish(session_id, "aborted", [], {}, {}, reason)
        return ids

    def get(self, session_id: int) -> TestSession | None:
        rows = self.store.query("SELECT * FROM test_sessions WHERE id=?", (session_id,))
        return _session(rows[0]) if rows else None

    def sessions(self, hearing_id: str | None = None) -> list[TestSession]:
        if hearing_id is None:
            rows = self.store.query("SELECT * FROM test_sessions ORDER BY id")
        else:
            rows = self.store.query("SELECT * FROM test_sessions WHERE hearing_id=? ORDER BY id", (hearing_id,))
        return [_session(r) for r in rows]

    def passed(self, hearing_id: str) -> TestSession | None:
        """The latest passed session for the hearing, if any."""
        ok = [s for s in self.sessions(hearing_id) if s.passed]
        return ok[-1] if ok else None


def _who(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise Refused("refused.technician")
    return name.strip()[:80]


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _session(row: dict) -> TestSession:
    return TestSession(row["id"], row["hearing_id"], row["technician"], json.loads(row["far_side"]),
                       row["started_at"], row["finished_at"], row["result"], json.loads(row["checks"]),
                       json.loads(row["call"]), json.loads(row["evidence"]), row["notes"])
