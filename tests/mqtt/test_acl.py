"""The firmware ACL template on a real Mosquitto: each room stays in its own subtree."""
from __future__ import annotations

import json
import string
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from vksroom.hil.broker import Broker, mosquitto_path
from vksroom.mqtt import contract
from vksroom.mqtt.contract import Topics
from vksroom.mqtt.link import MqttLink

from support.mqttkit import Listener, room_config

pytestmark = [pytest.mark.timeout(60), pytest.mark.skipif(not mosquitto_path(), reason="no Mosquitto")]
TEMPLATES = Path(__file__).parents[2] / "firmware" / "mosquitto"
R101, R102 = Topics("vks", "almaty-01", "101"), Topics("vks", "almaty-01", "102")
USERS = {"almaty-01/101": "pw-101", "almaty-01/102": "pw-102", "scheduler": "pw-sched"}


@pytest.fixture
def secured(tmp_path):
    acl = tmp_path / "vksroom.acl"
    acl.write_text(string.Template((TEMPLATES / "vksroom.acl.template").read_text()).substitute(PREFIX="vks"))
    pw = tmp_path / "vksroom.passwd"
    for i, (user, password) in enumerate(USERS.items()):
        subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [str(pw), user, password],
                       check=True, capture_output=True)
    broker = Broker("mosquitto", password_file=str(pw), acl_file=str(acl)).start()
    yield broker
    broker.close()


def raw_client(port, user, protocol=mqtt.MQTTv311):
    got = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=protocol)
    c.username_pw_set(user, USERS[user])
    c.on_message = lambda cl, u, m: got.append(m)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c, got


def test_room_credential_stays_in_its_own_subtree(secured, room, tmp_path):
    sched = Listener(secured.url, ["vks/#"], username="scheduler", password=USERS["scheduler"])
    link = MqttLink(room, room_config(secured.url, tmp_path, username="almaty-01/101", password="pw-101"),
                    backoff=(0.1, 0.5)).start()
    intruder, intruder_got = raw_client(secured.port, "almaty-01/101")
    try:
        assert link.ready.wait(10), "the room's own credential must connect and subscribe"
        sched.wait_for(lambda li: li.docs(R101.readiness))
        # writing into room 102's topics: dropped by the broker; a marker on our own topic
        # published after them on the same connection proves they had their chance
        for topic in (R102.readiness, R102.lifecycle, R102.commands, R102.event("fault")):
            intruder.publish(topic, b'{"forged": true}', qos=1).wait_for_publish(5)
        intruder.publish(R101.event("marker"), b'{"marker": true}', qos=1).wait_for_publish(5)
        sched.wait_for(lambda li: li.docs("/events/marker"))
        assert not [m.topic for m in sched.messages if m.topic.startswith(R102.base)]

        # reading room 102's commands: the subscription gets nothing
        sub_done = threading.Event()
        intruder.on_subscribe = lambda *a: sub_done.set()
        intruder.subscribe([(R102.commands, 1), ("vks/#", 1)])
        sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        sender.username_pw_set("scheduler", USERS["scheduler"])
        sender.connect("127.0.0.1", secured.port)
        sender.loop_start()
        assert sub_done.wait(5)
        sender.publish(R102.commands, json.dumps(contract.command_doc(R102, "vks.suspend")), qos=1).wait_for_publish(5)
        sender.publish(R101.commands, json.dumps(contract.command_doc(R101, "status.send", request_id="ok")),
                       qos=1).wait_for_publish(5)
        sched.wait_for(lambda li: [d for d in li.docs("/replies") if d["request_id"] == "ok"])
        sender.loop_stop()
        sender.disconnect()
        assert R102.commands not in [m.topic for m in intruder_got]
        assert room.calls == [("status.send", {})]   # the room got its own command
    finally:
        intruder.loop_stop()
        intruder.disconnect()
        link.stop(timeout=2)
        sched.close()


def connack(port, user, password):
    """The broker's answer to one CONNECT (paho's ReasonCode), and whether we stayed connected."""
    answered, reasons = threading.Event(), []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.username_pw_set(user, password)
    c.on_connect = lambda client, userdata, flags, reason, props: (reasons.append(reason), answered.set())
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        assert answered.wait(10), "the broker must answer the CONNECT"
        return reasons[0], c.is_connected()
    finally:
        c.disconnect()
        c.loop_stop()


def test_wrong_password_is_refused(secured):
    reason, connected = connack(secured.port, "almaty-01/101", "guess")
    assert reason.is_failure and not connected, f"connected with a wrong password ({reason})"
    reason, connected = connack(secured.port, "almaty-01/101", USERS["almaty-01/101"])   # the right one
    assert not reason.is_failure and connected


def test_rooms_hear_the_schedulers_status_request_and_may_not_send_one(secured, room, tmp_path):
    sched = Listener(secured.url, ["vks/+/+/lifecycle", "vks/+/+/replies"], username="scheduler",
                     password=USERS["scheduler"])
    link = MqttLink(room, room_config(secured.url, tmp_path, username="almaty-01/101", password="pw-101"),
                    backoff=(0.1, 0.5)).start()
    intruder, _ = raw_client(secured.port, "almaty-01/102")
    try:
        assert link.ready.wait(10)
        sched.wait_for(lambda li: [d for d in li.docs(R101.lifecycle) if d["state"] == "ready"])
        before = len(sched.docs(R101.lifecycle))
        # a room's credential may not ask everyone (the broker drops it); the scheduler may
        intruder.publish(R101.status_request, contract.encode(contract.status_request_doc(0)), qos=1).wait_for_publish(5)
        cmd = contract.command_doc(R101, "status.send", request_id="after-intruder")
        sched.client.publish(R101.commands, contract.encode(cmd), qos=1).wait_for_publish(5)
        sched.wait_for(lambda li: [d for d in li.docs("/replies") if d["request_id"] == "after-intruder"])
        assert len(sched.docs(R101.lifecycle)) == before, "the room answered a room's status request"
        sched.client.publish(R101.status_request, contract.encode(contract.status_request_doc(0)),
                             qos=1).wait_for_publish(5)
        sched.wait_for(lambda li: len(li.docs(R101.lifecycle)) > before)
        assert len(sched.docs(R101.lifecycle)) == before + 1
    finally:
        intruder.loop_stop()
        intruder.disconnect()
        link.stop(timeout=2)
        sched.close()
