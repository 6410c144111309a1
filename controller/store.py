"""The room's durable record in SQLite: self-test runs, their check results, device
availability transitions, the panel's audit of who did what, and the hearing lifecycle's schedule, test-session ledger,
alarms, hearing record and acts. One connection shared under a lock; WAL so readers (the panel)
never wait for the writer.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

from vksroom.controller.model import CheckResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS selftest_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    state TEXT,
    reasons TEXT
);
CREATE TABLE IF NOT EXISTS check_results (
    run_id INTEGER NOT NULL REFERENCES selftest_runs(id),
    device TEXT NOT NULL,
    check_name TEXT NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL,
    value TEXT,
    code TEXT,
    params TEXT,
    duration_s REAL,
    at REAL NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS check_results_run ON check_results(run_id);
CREATE TABLE IF NOT EXISTS device_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    available INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS panel_audit (     -- every state-changing panel request, with its user
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    user TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    address TEXT NOT NULL,
    action TEXT NOT NULL DEFAULT ''  -- the declared panel action (controller/commands.py)
);
"""

# The hearing lifecycle's tables (schedule, ledger, alarms, hearing record, acts).
LIFECYCLE_SCHEMA = """
CREATE TABLE IF NOT EXISTS far_sides (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,             -- court | detention
    name TEXT NOT NULL,
    number TEXT NOT NULL,           -- what the codec dials for the test call
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS hearings (
    id TEXT PRIMARY KEY,            -- the centre's id (or p-... for one entered on the panel)
    version INTEGER NOT NULL,       -- the highest version applied; older messages are stale
    status TEXT NOT NULL,           -- scheduled | cancelled
    doc TEXT NOT NULL,              -- the hearing as JSON (empty for a cancellation that came first)
    source TEXT NOT NULL,
    updated_at REAL NOT NULL,
    readiness TEXT                  -- the pre-hearing self-test's verdict for this hearing, JSON
);
CREATE TABLE IF NOT EXISTS schedule_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    hearing_id TEXT,
    action TEXT NOT NULL,           -- create | update | cancel
    version INTEGER,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,          -- created | updated | cancelled | unchanged | stale | rejected
    detail TEXT NOT NULL,
    doc TEXT NOT NULL               -- the message as received: nothing is lost, even when refused
);
CREATE TABLE IF NOT EXISTS test_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hearing_id TEXT NOT NULL,
    technician TEXT NOT NULL,
    far_side TEXT NOT NULL,         -- JSON: id, name, number
    started_at REAL NOT NULL,
    finished_at REAL,
    result TEXT NOT NULL,           -- running | passed | failed | aborted
    checks TEXT NOT NULL,           -- JSON list of check results
    call TEXT NOT NULL,             -- JSON: number, dialled_at, connected_at, seconds, state
    evidence TEXT NOT NULL,         -- JSON: snapshots, meter readings, far side's confirmation
    notes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS test_sessions_hearing ON test_sessions(hearing_id);
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,              -- what it is about: device:cam1, call:H3, test_session:H2...
    level TEXT NOT NULL,            -- fault | warning
    hearing_id TEXT,
    device TEXT,
    message TEXT NOT NULL,
    code TEXT NOT NULL,
    params TEXT NOT NULL,
    evidence TEXT NOT NULL,
    raised_at REAL NOT NULL,
    state TEXT NOT NULL,            -- open | fixing | fixed | cannot_be_fixed | cleared
    marked_by TEXT NOT NULL DEFAULT '',
    marked_at REAL,
    note TEXT NOT NULL DEFAULT '',
    closed_at REAL
);
CREATE TABLE IF NOT EXISTS room_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    hearing_id TEXT,
    device TEXT,
    who TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS room_log_hearing ON room_log(hearing_id);
CREATE TABLE IF NOT EXISTS acts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hearing_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    facts TEXT NOT NULL,            -- JSON: what the act was drawn up from
    text_kk TEXT NOT NULL,
    text_ru TEXT NOT NULL,
    edited_by TEXT NOT NULL DEFAULT '',
    edited_at REAL,
    printed_at REAL,
    pdf_path TEXT
);
"""



class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._db.executescript(LIFECYCLE_SCHEMA)
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(check_results)")}
            if "detail" not in columns:   # a database from before a check kept its technical detail
                self._db.execute("ALTER TABLE check_results ADD COLUMN detail TEXT NOT NULL DEFAULT ''")
            if "action" not in {r[1] for r in self._db.execute("PRAGMA table_info(panel_audit)")}:
                self._db.execute("ALTER TABLE panel_audit ADD COLUMN action TEXT NOT NULL DEFAULT ''")

    def execute(self, sql: str, params=()) -> int:
        """Run one statement; returns the new row id (INSERT) or the number of rows changed."""
        with self._lock:
            cur = self._db.execute(sql, params)
            return _new_id(cur) if sql.lstrip().upper().startswith("INSERT") else cur.rowcount

    def query(self, sql: str, params=()) -> list[dict]:
        """Rows as dicts keyed by column name."""
        with self._lock:
            cur = self._db.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def start_run(self, trigger: str, at: float | None = None) -> int:
        with self._lock:
            cur = self._db.execute("INSERT INTO selftest_runs(trigger, started_at) VALUES (?, ?)",
                                   (trigger, at or time.time()))
            return _new_id(cur)

    def finish_run(self, run_id: int, state: str, reasons: list[str], results: list[CheckResult],
                   at: float | None = None) -> None:
        rows = [(run_id, r.device, r.check, int(r.ok), r.reason, json.dumps(r.value, default=str), r.code,
                 json.dumps(r.params, default=str), r.duration_s, r.at, r.detail) for r in results]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO check_results(run_id, device, check_name, ok, reason, value, code, params, "
                                 "duration_s, at, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._db.execute("UPDATE selftest_runs SET finished_at=?, state=?, reasons=? WHERE id=?",
                             (at or time.time(), state, json.dumps(reasons, ensure_ascii=False), run_id))
            self._db.execute("COMMIT")

    def log_device(self, device: str, available: bool, reason: str, at: float | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT INTO device_log(device, available, reason, at) VALUES (?,?,?,?)",
                             (device, int(available), reason, at or time.time()))

    def audit_panel(self, user: str, method: str, path: str, status: int, address: str, action: str = "",
                    at: float | None = None) -> None:
        """Record one state-changing panel request: who, what (the declared action), the answer, from where."""
        with self._lock:
            self._db.execute("INSERT INTO panel_audit(at, user, method, path, status, address, action) "
                             "VALUES (?,?,?,?,?,?,?)", (at or time.time(), user, method, path, status, address, action))

    def panel_audit(self, limit: int = 100) -> list[dict]:
        """The newest panel actions first: ``{at, user, method, path, status, address, action}``."""
        return self.query("SELECT at, user, method, path, status, address, action FROM panel_audit "
                          "ORDER BY id DESC LIMIT ?", (limit,))

    def runs(self, limit: int = 20) -> list[dict]:
        with self._lock:
            cur = self._db.execute("SELECT id, trigger, started_at, finished_at, state, reasons FROM selftest_runs "
                                   "ORDER BY id DESC LIMIT ?", (limit,))
            return [{"id": r[0], "trigger": r[1], "started_at": r[2], "finished_at": r[3], "state": r[4],
                     "reasons": json.loads(r[5]) if r[5] else []} for r in cur.fetchall()]

    def results(self, run_id: int) -> list[CheckResult]:
        with self._lock:
            cur = self._db.execute("SELECT device, check_name, ok, reason, value, code, params, duration_s, at, "
                                   "detail FROM check_results WHERE run_id=? ORDER BY rowid", (run_id,))
            return [CheckResult(r[0], r[1], bool(r[2]), r[3], json.loads(r[4]) if r[4] else None, r[5] or "",
                                json.loads(r[6]) if r[6] else {}, r[7] or 0.0, r[8], detail=r[9] or "")
                    for r in cur.fetchall()]


def _new_id(cur: sqlite3.Cursor) -> int:
    if cur.lastrowid is None:
        raise sqlite3.DatabaseError("the insert made no row")
    return int(cur.lastrowid)
