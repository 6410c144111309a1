"""The room's durable record in SQLite: self-test runs, their check results, device
availability transitions. One connection shared under a lock; WAL so readers (the panel)
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
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS check_results_run ON check_results(run_id);
CREATE TABLE IF NOT EXISTS device_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    available INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
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

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def start_run(self, trigger: str, at: float | None = None) -> int:
        with self._lock:
            cur = self._db.execute("INSERT INTO selftest_runs(trigger, started_at) VALUES (?, ?)",
                                   (trigger, at or time.time()))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, state: str, reasons: list[str], results: list[CheckResult],
                   at: float | None = None) -> None:
        rows = [(run_id, r.device, r.check, int(r.ok), r.reason, json.dumps(r.value, default=str), r.code,
                 json.dumps(r.params, default=str), r.duration_s, r.at) for r in results]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT INTO check_results VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            self._db.execute("UPDATE selftest_runs SET finished_at=?, state=?, reasons=? WHERE id=?",
                             (at or time.time(), state, json.dumps(reasons, ensure_ascii=False), run_id))
            self._db.execute("COMMIT")

    def log_device(self, device: str, available: bool, reason: str, at: float | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT INTO device_log(device, available, reason, at) VALUES (?,?,?,?)",
                             (device, int(available), reason, at or time.time()))

    def runs(self, limit: int = 20) -> list[dict]:
        with self._lock:
            cur = self._db.execute("SELECT id, trigger, started_at, finished_at, state, reasons FROM selftest_runs "
                                   "ORDER BY id DESC LIMIT ?", (limit,))
            return [{"id": r[0], "trigger": r[1], "started_at": r[2], "finished_at": r[3], "state": r[4],
                     "reasons": json.loads(r[5]) if r[5] else []} for r in cur.fetchall()]

    def results(self, run_id: int) -> list[CheckResult]:
        with self._lock:
            cur = self._db.execute("SELECT device, check_name, ok, reason, value, code, params, duration_s, at "
                                   "FROM check_results WHERE run_id=? ORDER BY rowid", (run_id,))
            return [CheckResult(r[0], r[1], bool(r[2]), r[3], json.loads(r[4]) if r[4] else None, r[5] or "",
                                json.loads(r[6]) if r[6] else {}, r[7] or 0.0, r[8]) for r in cur.fetchall()]
