"""The SQLite outbox on its own: order, supersede, the bound and its notice, reopening."""
from __future__ import annotations

import logging

import pytest

from vksroom.mqtt.outbox import OVERFLOW_KEY, Outbox


def overflow(summary):
    return "vks/c/r/events/outbox.overflow", {"kind": "outbox.overflow", "data": dict(summary)}


def test_rows_come_back_in_order_with_seq_in_payload_and_survive_reopen(tmp_path):
    box = Outbox(tmp_path / "o.db")
    seqs = [box.put("vks/c/r/events/fault", {"n": i}) for i in range(5)]
    box.close()
    box = Outbox(tmp_path / "o.db")
    rows = box.pending()
    assert [r.seq for r in rows] == seqs and [r.doc["n"] for r in rows] == list(range(5))
    assert all(r.doc["seq"] == r.seq for r in rows)
    assert box.ack(seqs[0], seqs[1]) == 2 and len(box) == 3
    assert [r.doc["n"] for r in box.pending(after=seqs[2])] == [3, 4]
    # seq never goes back, even after rows are gone and the file is reopened
    box.ack(*seqs[2:])
    box.close()
    assert Outbox(tmp_path / "o.db").put("t", {}) > seqs[-1]


def test_newer_readiness_supersedes_older_unsent_one(tmp_path):
    box = Outbox(tmp_path / "o.db")
    box.put("r", {"state": "ready"}, retain=True, key="readiness")
    box.put("e", {"n": 1})
    box.put("r", {"state": "not_ready"}, retain=True, key="readiness")
    assert [(r.topic, r.doc.get("state")) for r in box.pending()] == [("e", None), ("r", "not_ready")]
    assert box.superseded == 1 and len(box) == 2


def test_full_outbox_drops_oldest_events_loudly_with_a_notice(tmp_path, caplog):
    box = Outbox(tmp_path / "o.db", max_messages=100, overflow=overflow)
    box.put("r", {"state": "ready"}, retain=True, key="readiness")
    with caplog.at_level(logging.ERROR):
        for i in range(120):
            box.put("e", {"n": i})
    rows = box.pending(limit=1000)
    assert len(box) <= 101 and len(rows) == len(box)
    notice = [r for r in rows if r.key == OVERFLOW_KEY]
    assert len(notice) == 1                                   # one running notice, not one per drop
    kept = [r.doc["n"] for r in rows if r.topic == "e"]
    dropped = notice[0].doc["data"]["dropped"]
    assert kept == list(range(120 - len(kept), 120))          # the newest are kept, in order
    assert dropped == 120 - len(kept) and box.dropped == dropped
    assert any(r.doc.get("state") == "ready" for r in rows)   # the retained truth is never dropped
    assert any("MQTT outbox full" in r.getMessage() for r in caplog.records)
    # once the notice reached the broker, the next overflow starts a new count
    box.ack(notice[0].seq)
    for i in range(5):
        box.put("e", {"n": 1000 + i})
    fresh = [r for r in box.pending(limit=1000) if r.key == OVERFLOW_KEY]
    assert fresh and fresh[0].doc["data"]["dropped"] < dropped + 5


def test_bound_must_be_sane(tmp_path):
    with pytest.raises(ValueError):
        Outbox(tmp_path / "o.db", max_messages=1)


def test_answered_commands_survive_reopen_and_unanswered_ones_are_marked(tmp_path):
    box = Outbox(tmp_path / "o.db")
    assert box.claim("r-1", "hearing.create") == (True, None)
    reply = {"request_id": "r-1", "command": "hearing.create", "status": "accepted", "result": {"hearing_id": "h"}}
    seq = box.put("vks/c/r/replies", reply, reply_to="r-1")
    assert box.claim("r-2", "vks.suspend") == (True, None)   # never answered: the room "died" here
    box.close()
    box = Outbox(tmp_path / "o.db")
    assert box.claim("r-1") == (False, reply)                # stored without the outbox's seq
    assert box.pending()[0].doc == {**reply, "seq": seq}
    assert box.claim("r-2") == (False, None)
    assert box.reply_for("r-1") == reply and box.reply_for("r-2") is None and box.reply_for("r-3") is None


def test_answered_commands_are_bounded_by_count_and_age(tmp_path):
    box = Outbox(tmp_path / "o.db", max_replies=5, reply_days=7)
    day = 86400.0
    for i in range(8):
        box.claim(f"r-{i}", "status.send", now=1000 * day + i)
    assert box.replies_kept() == 5 and box.claim("r-2", now=1000 * day)[0]   # r-0..r-2 forgotten
    assert not box.claim("r-7", now=1000 * day)[0]
    box.claim("late", now=1007.5 * day)                                       # a week later
    assert box.replies_kept() == 1 and box.claim("r-7", now=1007.5 * day)[0]
