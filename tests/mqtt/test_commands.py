"""Commands from the scheduler: accepted with the result, or rejected with the reason."""
from __future__ import annotations

import json
import logging

import paho.mqtt.publish as publish
import pytest

from vksroom.controller import texts as tx
from vksroom.mqtt import contract
from vksroom.mqtt.contract import Topics
from vksroom.mqtt.link import MqttLink
from vksroom.mqtt.outbox import Outbox

from support import textkit
from support.mqttkit import room_config

pytestmark = pytest.mark.timeout(60)
T = Topics("vks", "almaty-01", "101")


@pytest.fixture
def live(broker, room, tmp_path, listeners):
    link = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    assert link.ready.wait(10)
    sub = listeners(broker.url, [T.replies, T.readiness])
    yield link, sub
    link.stop(timeout=2)


def send(broker, payload, topic=T.commands):
    if isinstance(payload, dict):
        payload = json.dumps(payload)
    publish.single(topic, payload, qos=1, hostname="127.0.0.1", port=broker.port)


def reply_to(sub, request_id, timeout=10):
    return sub.wait_for(lambda li: next((d for d in li.docs("/replies") if d["request_id"] == request_id), None),
                        timeout)


def test_accepted_command_changes_the_room_and_replies(broker, room, live):
    link, sub = live
    send(broker, contract.command_doc(T, "vks.suspend", {"reason": "order 12"}, request_id="r-1"))
    reply = reply_to(sub, "r-1")
    contract.check("reply", reply)
    assert reply["status"] == "accepted" and reply["result"] == {"state": "suspended"}
    doc = sub.wait_for(lambda li: next((d for d in li.docs("/readiness") if d["state"] == "suspended"), None))
    assert doc["reasons"] == ["suspended by the centre: order 12"]


def test_repeated_request_id_is_answered_again_but_run_once(broker, room, live):
    link, sub = live
    cmd = contract.command_doc(T, "hearing.create", {"hearing_id": "h-7", "starts_at": "2025-01-10T10:00"},
                               request_id="r-dup")
    send(broker, cmd)
    send(broker, cmd)
    sub.wait_for(lambda li: len([d for d in li.docs("/replies") if d["request_id"] == "r-dup"]) == 2)
    assert [d["status"] for d in sub.docs("/replies")] == ["accepted", "accepted"]
    assert room.calls == [("hearing.create", {"hearing_id": "h-7", "starts_at": "2025-01-10T10:00"})]


def test_controller_refusal_is_the_reason(broker, room, live):
    link, sub = live
    send(broker, contract.command_doc(T, "hearing.cancel", {"hearing_id": "nope"}, request_id="r-2"))
    reply = reply_to(sub, "r-2")
    assert reply["status"] == "rejected" and reply["reason"] == "Такого заседания нет в расписании"   # the room's ru


BAD = {
    "malformed": (b'{"schema_version": 1, "request_id": "x1", ', None, "not valid JSON"),
    "wrong_version": (contract.command_doc(T, "vks.suspend", request_id="x2") | {"schema_version": 99}, "x2",
                      "unsupported schema_version 99"),
    "unknown_command": (contract.command_doc(T, "vks.suspend", request_id="x3") | {"command": "room.explode"}, "x3",
                        "unknown command 'room.explode'"),
    "oversize": (contract.command_doc(T, "hearing.create", {"hearing_id": "h", "notes": "x" * 70_000},
                                      request_id="x4"), "x4", "exceeds the 65536-byte limit"),
    "other_room": (contract.command_doc(Topics("vks", "almaty-01", "102"), "vks.suspend", request_id="x5"), "x5",
                   "addressed to almaty-01/102, this is almaty-01/101"),
    "no_request_id": ({k: v for k, v in contract.command_doc(T, "vks.suspend").items() if k != "request_id"}, None,
                      "request_id: is required"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_command_is_rejected_with_reason_once_and_changes_nothing(case, broker, room, live, caplog):
    link, sub = live
    payload, rid, reason = BAD[case]
    before = room.readiness()
    with caplog.at_level(logging.WARNING, logger="vksroom.mqtt.link"):
        send(broker, payload)
        reply = sub.wait_for(lambda li: li.docs("/replies") and li.docs("/replies")[-1])
    contract.check("reply", reply)
    assert reply["status"] == "rejected" and reply["request_id"] == rid
    assert reason in reply["detail"]                       # what exactly is wrong: for the centre's staff
    assert reply["reason"] == tx.say(reply["code"], {}, "ru") and reply["code"].startswith("refused.")
    assert not textkit.latin_words(reply["reason"])        # the sentence, in the room's language
    assert room.calls == [] and room.readiness() is before
    assert len([r for r in caplog.records if "rejected" in r.getMessage()]) == 1
    # the link carries on: a good command right after is accepted
    send(broker, contract.command_doc(T, "status.send", request_id="after"))
    assert reply_to(sub, "after")["status"] == "accepted"


def test_expired_command_is_not_run(broker, room, live):
    link, sub = live
    send(broker, contract.command_doc(T, "selftest.run", request_id="old", expires_at=1.0))
    reply = reply_to(sub, "old")
    assert (reply["reason"], reply["code"]) == ("Срок действия команды истёк до того, как она дошла до зала",
                                                "refused.expired") and "expired at 1.0" in reply["detail"]
    assert room.calls == []


def without_seq(doc):
    return {k: v for k, v in doc.items() if k != "seq"}


def test_command_repeated_after_a_restart_is_answered_the_same_and_not_run_again(broker, room, tmp_path, listeners):
    """The handled request ids live in the room's SQLite: a new link on the same data dir
    (the room restarted) answers a redelivered command with the stored reply."""
    sub = listeners(broker.url, [T.replies])
    cmd = contract.command_doc(T, "hearing.create", {"hearing_id": "h-9", "starts_at": "2025-02-03T09:30"},
                               request_id="r-restart")
    first = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert first.ready.wait(10)
        send(broker, cmd)
        reply = reply_to(sub, "r-restart")
        assert first.flush(10)
    finally:
        first.stop(timeout=2)
    assert reply["status"] == "accepted" and len(room.calls) == 1

    again = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert again.ready.wait(10)
        send(broker, cmd)
        replies = sub.wait_for(lambda li: [d for d in li.docs("/replies") if d["request_id"] == "r-restart"][1:] and
                               [d for d in li.docs("/replies") if d["request_id"] == "r-restart"])
    finally:
        again.stop(timeout=2)
    assert room.calls == [("hearing.create", {"hearing_id": "h-9", "starts_at": "2025-02-03T09:30"})]
    # run twice, the stub would have said "hearing h-9 already exists"; the reply is the first one,
    # word for word and with its original time; only seq (the room's publish order) is new
    assert without_seq(replies[1]) == without_seq(replies[0]) and replies[1]["seq"] > replies[0]["seq"]
    assert again.stats["answered_again"] == 1


def test_command_running_when_the_room_stopped_is_not_run_again(broker, room, tmp_path, listeners):
    # the room claimed r-cut and then lost power before the controller answered
    assert Outbox(tmp_path / "mqtt-outbox.sqlite3").claim("r-cut", "vks.suspend") == (True, None)
    link = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert link.ready.wait(10)
        sub = listeners(broker.url, [T.replies])
        send(broker, contract.command_doc(T, "vks.suspend", {"reason": "order 3"}, request_id="r-cut"))
        reply = reply_to(sub, "r-cut")
        send(broker, contract.command_doc(T, "vks.suspend", {"reason": "order 3"}, request_id="r-cut"))
        again = sub.wait_for(lambda li: [d for d in li.docs("/replies") if d["request_id"] == "r-cut"][1:])[0]
    finally:
        link.stop(timeout=2)
    assert reply["status"] == "rejected" and reply["reason"].startswith("Зал перезапустился во время выполнения команды")
    assert without_seq(again) == without_seq(reply)
    assert room.calls == [] and room.readiness().state.value == "ready"
