"""The contract as code: builders produce what the schemas say; validation names the problem."""
from __future__ import annotations

import json
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from vksroom.mqtt import contract
from vksroom.mqtt.contract import Topics
from vksroom.mqtt.link import MqttLink

from support.mqttkit import room_config

T = Topics("vks", "almaty-01", "101")


def test_topics_live_under_the_room_prefix():
    assert T.readiness == "vks/almaty-01/101/readiness"
    assert T.event("selftest.finished") == "vks/almaty-01/101/events/selftest-finished"   # no dots (RabbitMQ)
    assert T.event("test_session.recorded") == "vks/almaty-01/101/events/test_session-recorded"
    assert T.event("Weird/Kind+#") == "vks/almaty-01/101/events/weird_kind__"
    assert contract.parse_topic("vks", T.lifecycle) == ("almaty-01", "101", "lifecycle")
    assert contract.parse_topic("vks", "other/a/b/c") is None


def test_builders_match_the_schemas(room):
    contract.check("readiness", {**contract.readiness_doc(T, room.readiness().to_dict()), "seq": 1})
    contract.check("event", {**contract.event_doc(T, "fault", {"device": "cam"}), "seq": 2})
    contract.check("reply", {**contract.reply_doc(T, "r", "vks.suspend", result={}), "seq": 3})
    contract.check("reply", {**contract.reply_doc(T, None, None, reason="bad"), "seq": 4})
    contract.check("lifecycle", contract.lifecycle_doc(T, "lost"))
    contract.check("command", contract.command_doc(T, "selftest.run"))


def test_validation_names_the_field():
    doc = {**contract.event_doc(T, "fault", {}), "seq": 0}
    del doc["id"]
    problems = contract.errors(contract.EVENT_SCHEMA, doc)
    assert "id: is required" in problems and "seq: must be >= 1, got 0" in problems
    with pytest.raises(ValueError, match="state: must be one of"):
        contract.check("lifecycle", {**contract.lifecycle_doc(T, "ready"), "state": "sleepy"})


def test_schemas_are_json_and_generated_into_the_doc():
    for name in contract.SCHEMAS:
        s = contract.json_schema(name)
        assert json.loads(json.dumps(s)) == s
        version = s["properties"]["schema_version"]
        if name in ("command", "status_request"):   # what the centre sends: 1 and 2 both taken
            assert version["enum"] == [1, 2]
        else:
            assert version["const"] == 2
    assert "### `readiness`" in contract.markdown_schemas()


@pytest.mark.timeout(60)
def test_every_published_payload_is_valid_and_unknown_kinds_pass(broker, room, tmp_path, listeners):
    sub = listeners(broker.url, ["vks/#"])
    link = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert link.ready.wait(10)
        for kind in ("fault", "recovered", "selftest.started", "selftest.finished", "test_session.recorded",
                     "act.created", "break.recommended", "hearing.started"):
            room.emit(kind, detail=kind)
        sub.wait_for(lambda li: len(li.docs("/events/hearing-started")) == 1)
    finally:
        link.stop(timeout=2)
    sub.wait_for(lambda li: li.docs("/lifecycle")[-1]["state"] == "disconnected")
    seqs = []
    for msg in sub.messages:
        name = msg.topic.split("/")[3]
        doc = json.loads(msg.payload)
        contract.check({"events": "event"}.get(name, name), doc)
        if "seq" in doc:
            seqs.append(doc["seq"])
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


@pytest.mark.timeout(60)
def test_mqtt5_readiness_expires_at_valid_until(mosquitto, room, tmp_path):
    link = MqttLink(room, room_config(mosquitto.url, tmp_path), backoff=(0.1, 0.5)).start()
    got = []
    try:
        assert link.ready.wait(10) and link.flush(10)
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.connect("127.0.0.1", mosquitto.port)
        c.subscribe(T.readiness, qos=1)
        c.on_message = lambda cl, u, m: got.append(m)
        for _ in range(50):
            if got:
                break
            assert c.loop(timeout=0.2) == 0
        c.disconnect()
    finally:
        link.stop(timeout=2)
    assert got, "no retained readiness"
    props = got[0].properties
    assert props.ContentType == "application/json"
    assert 35 < props.MessageExpiryInterval <= 38   # 1.25 heartbeats (30 s), sooner than the stub's 600 s


def test_contract_document_is_generated_from_the_code():
    from vksroom.mqtt import gendoc

    assert gendoc.main(["--check"]) == 0, "run python -m vksroom.mqtt.gendoc"


def test_a_failed_check_reaches_the_centre_as_a_sentence_with_its_detail_apart():
    from vksroom.controller.model import CheckResult, DeviceState, Readiness, RoomState

    judge = {"kk": "Судья камерасы", "ru": "Камера судьи", "en": "Judge camera"}
    check = CheckResult("cam1", "reachable", False, code="device.unreachable",
                        detail="[Errno 113] No route to host: visca-ip://10.0.0.21")
    cam = DeviceState.from_checks("cam1", "camera", True, [check], label=judge)
    doc = {**contract.readiness_doc(T, Readiness("almaty-01", "101", RoomState.IN_HEARING, (cam,), (cam.reason,),
                                                 verdict=RoomState.NOT_READY).to_dict()), "seq": 1}
    contract.check("readiness", doc)
    assert doc["state"] == "in_hearing" and doc["verdict"] == "not_ready"      # a hearing hides no fault
    assert doc["reasons"] == ["Камера судьи не отвечает"]
    d = doc["devices"]["cam1"]
    assert (d["label"], d["reason"], d["text"]["kk"]) == ("Камера судьи", "Камера судьи не отвечает",
                                                          "Судья камерасы жауап бермейді")
    [c] = d["checks"]
    assert c["reason"] == "Камера судьи не отвечает" and c["text"]["en"] == "Judge camera does not answer"
    assert "Errno" in c["detail"] and "Errno" not in json.dumps([c["reason"], c["text"], d["reason"], d["text"]])
    assert contract.errors(contract.READINESS_SCHEMA, {**doc, "verdict": "in_hearing"})   # not a device verdict


def test_no_topic_level_carries_a_dot_and_the_old_names_are_documented():
    for kind in contract.EVENT_KINDS:
        level = T.event(kind).split("/")[-1]
        assert "." not in level and level == kind.replace(".", "-")
    doc = (Path(__file__).parents[2] / "docs" / "mqtt-contract.md").read_text(encoding="utf-8")
    assert "| `selftest.started` | `…/events/selftest-started` | `…/events/selftest.started` |" in doc


def test_a_command_of_schema_version_1_is_still_taken():
    for version in (1, 2):
        cmd = contract.parse_command(T, contract.encode(contract.command_doc(T, "status.send") | {"schema_version": version}))
        assert cmd.name == "status.send"
    with pytest.raises(contract.CommandRejected, match="this room takes 1 and 2"):
        contract.parse_command(T, contract.encode(contract.command_doc(T, "status.send") | {"schema_version": 3}))


def test_an_oversize_command_is_refused_under_its_request_id_up_to_what_the_broker_carries():
    def oversize(size: int, rid: str = "big-1") -> bytes:
        return contract.encode(contract.command_doc(T, "farside.set", {"name": "x" * size}, request_id=rid))

    with pytest.raises(contract.CommandRejected, match="exceeds the 65536-byte limit") as refused:
        contract.parse_command(T, oversize(contract.MAX_COMMAND_BYTES))
    assert (refused.value.request_id, refused.value.command) == ("big-1", "farside.set")   # the centre can match it
    beyond = contract.read_envelope(oversize(contract.ID_READ_BYTES))      # not even read: no id to answer under
    assert (beyond.request_id, beyond.doc) == (None, None) and "exceeds" in beyond.problem
