"""The security review's command findings, each over a real broker against a real link: every
well-formed command is answered under its own request id, a bad one is refused with a
sentence before anything runs, and none holds the command worker up."""
from __future__ import annotations

import dataclasses
import json
import time

import paho.mqtt.publish as publish
import pytest

from vksroom.controller.config import MqttConfig
from vksroom.controller.model import RoomState
from vksroom.mqtt import contract
from vksroom.mqtt.contract import Topics
from vksroom.mqtt.link import MqttLink
from vksroom.web import create_app

from support.mqttkit import room_config

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def real(broker, make_room, listeners):
    """The real controller (lifecycle and all, over stand-in devices) with its MQTT link."""
    room, _ = make_room()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    cfg = dataclasses.replace(room.cfg, mqtt=MqttConfig(url=broker.url, keepalive=2))
    link = MqttLink(room, cfg, backoff=(0.1, 0.5)).start()
    assert link.ready.wait(10)
    sub = listeners(broker.url, [link.topics.replies])
    yield room, link, sub
    link.stop(timeout=2)


def send(broker, *payloads, topic):
    publish.multiple([{"topic": topic, "payload": p, "qos": 1} for p in payloads], hostname="127.0.0.1",
                     port=broker.port)


def command(topics, name, args, rid, **fields) -> str:
    """The command as JSON text (to be edited as a hostile sender would)."""
    return json.dumps({**contract.command_doc(topics, name, args, request_id=rid), **fields})


def reply_to(sub, rid, timeout=10.0):
    return sub.wait_for(lambda li: next((d for d in li.docs("/replies") if d["request_id"] == rid), None), timeout)


def replies(sub, rid):
    return [d for d in sub.docs("/replies") if d["request_id"] == rid]


def unchanged(room, before):
    assert room.readiness().state is before.state is RoomState.READY
    assert room.lifecycle.schedule.hearings() == [] and room.lifecycle.schedule.far_sides() == {}
    assert room.store.runs(1) == []


@pytest.mark.parametrize("field", ["court_id", "courtroom"])
def test_a_lone_surrogate_in_the_address_is_answered_under_its_request_id(field, broker, real):
    room, link, sub = real
    before = room.readiness()
    doc = json.loads(command(link.topics, "vks.suspend", {"reason": "order 12"}, "sur-1"))
    text = json.dumps({**doc, field: "ast\ud800"})          # json writes the lone surrogate as \ud800
    send(broker, text, topic=link.topics.commands)
    reply = reply_to(sub, "sur-1")
    assert reply["status"] == "rejected" and reply["detail"].startswith(f"{field}: text with a lone surrogate")
    assert reply["reason"] == "Зал не смог прочитать команду"
    unchanged(room, before)


def test_a_surrogate_in_the_suspension_reason_is_refused_and_the_panel_keeps_answering(broker, real):
    room, link, sub = real
    before = room.readiness()
    send(broker, command(link.topics, "vks.suspend", {"reason": "riot \ud800"}, "sur-2"), topic=link.topics.commands)
    reply = reply_to(sub, "sur-2")
    assert reply["status"] == "rejected" and reply["detail"].startswith("args.reason: text with a lone surrogate")
    unchanged(room, before)
    panel = create_app(room, {"TESTING": True}).test_client()
    assert panel.get("/").status_code == 200 and panel.get("/api/readiness").status_code == 200


def test_a_trigger_of_the_wrong_type_is_refused_at_once_by_name(broker, real):
    room, link, sub = real
    before = room.readiness()
    send(broker, command(link.topics, "selftest.run", {"trigger": ["x"]}, "trig-1"),
         command(link.topics, "status.send", {}, "trig-2"), topic=link.topics.commands)
    started = time.monotonic()
    reply = reply_to(sub, "trig-1")
    assert reply["status"] == "rejected" and reply["reason"] == "Поле «trigger» должно быть: текст"
    # the worker was not held up: the next command is answered right after, not 10 s later
    assert reply_to(sub, "trig-2", timeout=3)["status"] == "accepted"
    assert time.monotonic() - started < 3
    unchanged(room, before)


def test_twenty_thousand_levels_of_nesting_are_answered(broker, real):
    room, link, sub = real
    before = room.readiness()
    text = command(link.topics, "vks.suspend", {"reason": 0}, "deep-1").replace(
        '{"reason": 0}', '{"reason": ' + "[" * 20_000 + "]" * 20_000 + "}")
    send(broker, text, topic=link.topics.commands)
    reply = reply_to(sub, "deep-1")
    assert reply["status"] == "rejected" and reply["detail"] == f"nested deeper than {contract.MAX_DEPTH} levels"
    assert reply["command"] == "vks.suspend"
    unchanged(room, before)


def test_a_huge_version_is_refused_naming_the_field(broker, real):
    room, link, sub = real
    before = room.readiness()
    hearing = {"id": "H1", "case_number": "A-1", "start": "2030-03-10T05:00:00Z",
               "far_side": {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1", "number": "1001"}}
    send(broker, command(link.topics, "hearing.create", {**hearing, "version": 10 ** 30}, "ver-1"),
         command(link.topics, "hearing.create", {**hearing, "version": 2 ** 40}, "ver-2"), topic=link.topics.commands)
    huge, big = reply_to(sub, "ver-1"), reply_to(sub, "ver-2")
    assert huge["status"] == "rejected" and huge["detail"].startswith("args.version: the number is out of bounds")
    assert big["status"] == "rejected" and big["reason"] == "Поле «version» должно быть от 1 до 2147483647"
    unchanged(room, before)


def test_a_sixty_thousand_character_far_side_name_is_refused(broker, real):
    room, link, sub = real
    before = room.readiness()
    far = {"id": "sizo-1", "kind": "detention", "name": "n" * 60_000, "number": "1001"}
    send(broker, command(link.topics, "farside.set", far, "far-1"), topic=link.topics.commands)
    reply = reply_to(sub, "far-1")
    assert reply["status"] == "rejected" and reply["reason"] == "Поле «name» длиннее 120 символов"
    unchanged(room, before)


T = Topics("vks", "almaty-01", "101")


def test_a_full_queue_answers_busy_under_each_request_id(broker, room, tmp_path, listeners):
    """The first command holds the worker; 63 more fill the inbox to 64; the next 4 are answered
    "busy" at once, each under its own request id, and the 64 are all answered once it goes on."""
    room.hold = {"vks.suspend"}
    link = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert link.ready.wait(10)
        sub = listeners(broker.url, [T.replies])
        held = contract.encode(contract.command_doc(T, "vks.suspend", {"reason": "order 1"}, request_id="q-0"))
        rest = [contract.encode(contract.command_doc(T, "status.send", request_id=f"q-{i}")) for i in range(1, 68)]
        send(broker, held, *rest, topic=T.commands)
        busy = sub.wait_for(lambda li: len(li.docs("/replies")) >= 4 and li.docs("/replies"))
        # each of the four over the limit is answered under its own id (their order is not promised)
        assert sorted(d["request_id"] for d in busy) == ["q-64", "q-65", "q-66", "q-67"]
        assert all(d["status"] == "rejected" and d["code"] == "refused.busy" for d in busy)
        assert busy[0]["reason"] == "Зал занят (команд в очереди: 64): отправьте эту команду позже"
        room.release.set()
        sub.wait_for(lambda li: len(li.docs("/replies")) == 68)
    finally:
        room.release.set()
        link.stop(timeout=2)
    answered = {d["request_id"]: d["status"] for d in sub.docs("/replies")[4:]}
    assert answered == {f"q-{i}": "accepted" for i in range(64)}


def test_commands_waiting_when_the_room_stopped_are_answered_after_the_restart(broker, tmp_path, listeners):
    """One command runs (held) and one waits when the room stops; the restarted room answers
    both under their request ids: the waiting one runs, the running one's outcome is unknown."""
    from support.room_stub import RoomStub

    first, second = RoomStub(), RoomStub()
    first.hold = {"vks.suspend"}
    sub = listeners(broker.url, [T.replies])
    link = MqttLink(first, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert link.ready.wait(10)
        send(broker, contract.encode(contract.command_doc(T, "vks.suspend", {"reason": "x"}, request_id="r-run")),
             contract.encode(contract.command_doc(T, "vks.resume", request_id="r-wait")), topic=T.commands)
        assert first.holding.wait(10)
        assert link.flush(10)             # the broker has handed both over: r-wait waits behind r-run
    finally:
        link.stop(timeout=1)              # the controller is still busy with r-run
    again = MqttLink(second, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        running, waiting = reply_to(sub, "r-run"), reply_to(sub, "r-wait")
    finally:
        first.release.set()
        again.stop(timeout=2)
    assert running["status"] == "rejected" and running["code"] == "refused.outcome_unknown"
    assert waiting["status"] == "accepted" and second.calls == [("vks.resume", {})]
    assert first.calls == [("vks.suspend", {"reason": "x"})]
