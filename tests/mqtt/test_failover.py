"""Several brokers in the room file: the link takes them in turn and moves when one goes away."""
from __future__ import annotations

import time
import tomllib

import pytest

from support.mqttkit import Listener, room_config
from support.room_stub import RoomStub
from tests.controller.test_config import GOOD
from vksroom.controller.config import ConfigInvalid, parse
from vksroom.hil.broker import Broker, mosquitto_path
from vksroom.mqtt import contract
from vksroom.mqtt.contract import Topics
from vksroom.mqtt.link import MqttLink

pytestmark = pytest.mark.timeout(60)
TOPICS = Topics("vks", "almaty-01", "101")


def _with_mqtt(**mqtt):
    data = tomllib.loads(GOOD)
    data["mqtt"].update(mqtt)
    return data


def test_url_takes_a_list_of_brokers_and_one_url_still_works():
    one = parse(_with_mqtt())
    assert one.mqtt.brokers == (tomllib.loads(GOOD)["mqtt"]["url"],)
    two = parse(_with_mqtt(url=["mqtts://node-a.courts.example:8883", "mqtts://node-b.courts.example"]))
    assert two.mqtt.brokers == ("mqtts://node-a.courts.example:8883", "mqtts://node-b.courts.example")
    assert two.mqtt.url == "mqtts://node-a.courts.example:8883" and two.mqtt.tls


@pytest.mark.parametrize("urls, message", [
    ([], "mqtt.url: must be a URL or a non-empty list"),
    (["mqtt://a:1883", 7], "mqtt.url: must be a URL or a non-empty list"),
    (["mqtt://a:1883", "http://b"], "mqtt.url[1]: unknown scheme"),
    (["mqtt://a:1883", "mqtts://b:8883"], "mqtt.url: all brokers need the same scheme"),
])
def test_a_bad_list_of_brokers_is_named(urls, message):
    with pytest.raises(ConfigInvalid) as info:
        parse(_with_mqtt(url=urls))
    assert any(e.startswith(message) for e in info.value.errors), info.value.errors


def _status(listener: Listener, request_id: str) -> None:
    doc = contract.command_doc(TOPICS, "status.send", request_id=request_id)
    listener.client.publish(TOPICS.commands, contract.encode(doc), qos=1).wait_for_publish(5)


@pytest.mark.skipif(not mosquitto_path(), reason="no Mosquitto")
def test_the_room_moves_to_the_next_broker_when_its_own_dies_and_commands_work_there(tmp_path):
    a, b = Broker("mosquitto").start(), Broker("mosquitto").start()
    link = MqttLink(RoomStub(), room_config(a.url, tmp_path, urls=(a.url, b.url))).start()
    on_b = Listener(b.url, [f"{TOPICS.base}/#"])
    try:
        assert link.ready.wait(10) and link.url == a.url
        a.kill()
        gone = time.monotonic()
        assert link.wait_until(lambda li: li.ready.is_set() and li.url == b.url, 5), link.last_error
        assert time.monotonic() - gone < 5
        on_b.wait_for(lambda li: [d for d in li.docs("/lifecycle") if d["state"] == "ready"])
        _status(on_b, "on-b-1")
        reply = on_b.wait_for(lambda li: [d for d in li.docs("/replies") if d["request_id"] == "on-b-1"])[0]
        assert reply["status"] == "accepted"
    finally:
        link.stop(timeout=2)
        on_b.close()
        a.close()
        b.close()


@pytest.mark.skipif(not mosquitto_path(), reason="no Mosquitto")
def test_a_room_whose_first_broker_is_down_starts_on_the_second(tmp_path):
    a = Broker("mosquitto")            # a port, nothing listening
    b = Broker("mosquitto").start()
    link = MqttLink(RoomStub(), room_config(a.url, tmp_path, urls=(a.url, b.url))).start()
    try:
        assert link.ready.wait(5) and link.url == b.url
        assert link.stats["connect_failures"] >= 1
    finally:
        link.stop(timeout=2)
        b.close()
