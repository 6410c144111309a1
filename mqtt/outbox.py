"""A durable outbox: what the room must tell the centre, on disk until the broker has it.

Every readiness change, event and command reply is written here *before* it is handed to
the MQTT client, and removed only when the broker acknowledged it (PUBACK). Rows are
published in ``seq`` order, the order they were written, so order per room is kept; ``seq``
is also written into each payload so a consumer can see order and gaps.

Durability. The database runs in WAL mode. A write (``put``) commits with
``synchronous=FULL``: the WAL is fsync'ed before ``put`` returns, so what was written
survives kill -9 *and* a power cut (NORMAL would survive kill -9 but could lose the last
commits on power loss, since WAL frames are only fsync'ed at checkpoints). Acknowledgements
(``ack``) commit with ``synchronous=NORMAL``: losing an ack to a power cut only means the
message is sent once more, which consumers drop by id; and the next FULL commit makes
earlier WAL frames durable anyway. Rows are small; a FULL commit costs one fsync.

Bound and policy. Rows with a ``key`` (the retained readiness document) *supersede*: a new
row deletes every older row with the same key, so during an outage the outbox holds only the
newest readiness (the retained truth) and it does not grow. Other rows (events, replies) are
never dropped silently: when the outbox holds ``max_messages`` rows, the oldest are deleted
and counted, and an overflow row built by ``overflow`` (an ``outbox.overflow`` event naming
how many, which ``seq`` range and time span were dropped) is queued, itself superseding the
previous unsent overflow row with the running totals; the drop is logged as an error.

Commands answered. The same database remembers which command request ids the room has
handled and the reply it sent, so a command redelivered after a restart (QoS 1 redelivery
from a persistent session, or the scheduler retrying) is answered with the same reply and
not run again. ``claim`` records a request id *before* the command runs (``synchronous=FULL``);
``put(..., reply_to=request_id)`` stores the reply in the same transaction that queues it.
An id claimed but never answered was running when the room stopped: its outcome is unknown,
and ``claim`` says so rather than letting it run a second time. Kept: the newest
``max_replies`` ids, none older than ``reply_days``.

Commands received. A command is written to the ``inbox`` table when it arrives
(``receive``, ``synchronous=FULL``, before the MQTT client acknowledges it to the broker)
and leaves it in the transaction that queues its reply (``put(..., done=id)``), so a
command the room received is answered under its request id even when the room stopped,
crashed or lost power before handling it: on restart the inbox is handled first. The
inbox is bounded (``receive``'s ``limit``): beyond it the room answers "busy" at once.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

OVERFLOW_KEY = "outbox.overflow"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    topic    TEXT NOT NULL,
    payload  BLOB NOT NULL,
    qos      INTEGER NOT NULL,
    retain   INTEGER NOT NULL,
    key      TEXT,
    created  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_key ON outbox(key) WHERE key IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replies (
    request_id TEXT PRIMARY KEY,
    command    TEXT,
    reply      BLOB,            -- NULL while the command runs
    at         REAL NOT NULL    -- when the command was claimed
);
CREATE INDEX IF NOT EXISTS replies_at ON replies(at);
CREATE TABLE IF NOT EXISTS inbox (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    payload  BLOB NOT NULL,
    received REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Message:
    seq: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    key: str | None
    created: float

    @property
    def doc(self) -> dict:
        return json.loads(self.payload)


class Outbox:
    """The SQLite outbox. Thread-safe: one connection behind a lock."""

    def __init__(self, path: str | Path, max_messages: int = 100_000,
                 overflow: Callable[[dict], tuple[str, dict]] | None = None,
                 encode: Callable[[dict], bytes] | None = None, max_replies: int = 10_000,
                 reply_days: float = 7.0):
        if max_messages < 2:
            raise ValueError("max_messages must be at least 2")
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.max_messages = max_messages
        self.max_replies = max_replies
        self.reply_age_s = reply_days * 86400.0
        self._overflow = overflow
        self._encode = encode or (lambda d: json.dumps(d, separators=(",", ":"), default=str).encode())
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._count = self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        self.superseded = 0   # rows replaced by a newer row with the same key (this process)
        self.dropped = 0      # rows dropped for lack of room (this process)

    # --- writing ---------------------------------------------------------------------------

    def put(self, topic: str, doc: dict, qos: int = 1, retain: bool = False, key: str | None = None,
            reply_to: str | None = None, done: int | None = None) -> int:
        """Store one message durably; returns its ``seq`` (also written into the payload as ``seq``).

        ``reply_to``: ``doc`` is the reply to that command request id; it is remembered (without
        ``seq``) in the same transaction, for :meth:`claim` to give back on a repeat. ``done``:
        ``doc`` answers that inbox row, which leaves the inbox in the same transaction."""
        with self._lock:
            return self._put(topic, doc, qos, retain, key, reply_to, done)

    def _put(self, topic, doc, qos, retain, key, reply_to=None, done=None) -> int:
        db = self._db
        try:
            with self._transaction("FULL"):
                if done is not None:
                    db.execute("DELETE FROM inbox WHERE id = ?", (done,))
                return self._put_rows(topic, doc, qos, retain, key, reply_to)
        except BaseException:
            self._count = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
            raise

    @contextmanager
    def _transaction(self, synchronous: str):
        """One write transaction (caller holds the lock); FULL: fsync'ed before COMMIT returns."""
        db = self._db
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _put_rows(self, topic, doc, qos, retain, key, reply_to) -> int:
        db = self._db
        if key is not None:
            n = db.execute("DELETE FROM outbox WHERE key = ?", (key,)).rowcount
            self._count -= n
            self.superseded += n
        if key is None and self._count >= self.max_messages:
            self._make_room()
        seq = self._insert(topic, doc, qos, retain, key)
        if reply_to is not None:
            db.execute("INSERT INTO replies (request_id, command, reply, at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (request_id) DO UPDATE SET reply = excluded.reply",
                       (reply_to, doc.get("command"), self._encode(doc), time.time()))
        return seq

    def _insert(self, topic, doc, qos, retain, key) -> int:
        cur = self._db.execute(
            "INSERT INTO outbox (topic, payload, qos, retain, key, created) VALUES (?, x'', ?, ?, ?, ?)",
            (topic, int(qos), int(bool(retain)), key, time.time()))
        seq = cur.lastrowid
        self._db.execute("UPDATE outbox SET payload = ? WHERE seq = ?", (self._encode({**doc, "seq": seq}), seq))
        self._count += 1
        return seq

    def _make_room(self) -> None:
        """Drop the oldest unkeyed rows (1 % of the bound, at least one) and queue the overflow notice."""
        n = max(1, self.max_messages // 100)
        rows = self._db.execute(
            "SELECT seq, created FROM outbox WHERE key IS NULL ORDER BY seq LIMIT ?", (n,)).fetchall()
        if not rows:
            return
        self._db.execute("DELETE FROM outbox WHERE key IS NULL AND seq <= ?", (rows[-1][0],))
        self._count -= len(rows)
        self.dropped += len(rows)
        summary = self._meta("overflow") or {"dropped": 0, "first_seq": rows[0][0], "first_created": rows[0][1]}
        summary.update(dropped=summary["dropped"] + len(rows), last_seq=rows[-1][0], last_created=rows[-1][1],
                       max_messages=self.max_messages)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('overflow', ?)", (json.dumps(summary),))
        log.error("MQTT outbox full (%d messages): dropped %d oldest events, seq %d-%d (%d dropped since the "
                  "last notice reached the broker)", self.max_messages, len(rows), rows[0][0], rows[-1][0],
                  summary["dropped"])
        if self._overflow:
            topic, doc = self._overflow(summary)
            self._count -= self._db.execute("DELETE FROM outbox WHERE key = ?", (OVERFLOW_KEY,)).rowcount
            summary["notice_seq"] = self._insert(topic, doc, 1, False, OVERFLOW_KEY)
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('overflow', ?)", (json.dumps(summary),))

    # --- commands answered ---------------------------------------------------------------------

    def claim(self, request_id: str, command: str | None = None, now: float | None = None) -> tuple[bool, dict | None]:
        """Mark ``request_id`` as being handled, durably, unless it was seen before.

        Returns ``(True, None)``: new, run it and ``put`` its reply with ``reply_to``;
        ``(False, reply)``: answered before, send ``reply`` again; ``(False, None)``: claimed
        before but never answered (the room stopped while it ran), its outcome unknown."""
        now = time.time() if now is None else now
        with self._lock, self._transaction("FULL") as db:
            row = db.execute("SELECT reply FROM replies WHERE request_id = ?", (request_id,)).fetchone()
            if row is None:
                db.execute("DELETE FROM replies WHERE at < ?", (now - self.reply_age_s,))
                db.execute("INSERT INTO replies (request_id, command, reply, at) VALUES (?, ?, NULL, ?)",
                           (request_id, command, now))
                db.execute("DELETE FROM replies WHERE rowid <= (SELECT max(rowid) FROM replies) - ?",
                           (self.max_replies,))
        if row is None:
            return True, None
        return False, (json.loads(row[0]) if row[0] is not None else None)

    def reply_for(self, request_id: str) -> dict | None:
        """The reply stored for ``request_id``, if it was answered."""
        with self._lock:
            row = self._db.execute("SELECT reply FROM replies WHERE request_id = ?", (request_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] is not None else None

    # --- commands received -------------------------------------------------------------------

    def receive(self, payload: bytes, limit: int) -> int | None:
        """Keep a command that arrived, durably; its inbox id, or None when ``limit`` commands wait."""
        with self._lock, self._transaction("FULL") as db:
            if db.execute("SELECT count(*) FROM inbox").fetchone()[0] >= limit:
                return None
            return db.execute("INSERT INTO inbox (payload, received) VALUES (?, ?)",
                              (bytes(payload), time.time())).lastrowid

    def received(self, after: int = 0, limit: int = 16) -> list[tuple[int, bytes]]:
        """The commands waiting to be answered, in the order they arrived, with ``id > after``."""
        with self._lock:
            rows = self._db.execute("SELECT id, payload FROM inbox WHERE id > ? ORDER BY id LIMIT ?",
                                    (after, limit)).fetchall()
        return [(r[0], bytes(r[1])) for r in rows]

    def replies_kept(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM replies").fetchone()[0]

    def _meta(self, name: str):
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    # --- reading and acknowledging -----------------------------------------------------------

    def pending(self, after: int = 0, limit: int = 100) -> list[Message]:
        """The next rows in order, with ``seq > after``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, topic, payload, qos, retain, key, created FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit)).fetchall()
        return [Message(r[0], r[1], bytes(r[2]), r[3], bool(r[4]), r[5], r[6]) for r in rows]

    def ack(self, *seqs: int) -> int:
        """The broker has these: delete them. Returns how many rows went."""
        if not seqs:
            return 0
        with self._lock:
            with self._transaction("NORMAL") as db:
                n = db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs]).rowcount
                summary = self._meta("overflow")
                if summary and summary.get("notice_seq") in seqs:
                    db.execute("DELETE FROM meta WHERE name = 'overflow'")
            self._count -= n
            return n

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
