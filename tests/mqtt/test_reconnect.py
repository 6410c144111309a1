"""The link comes back within 2 s of its broker's return, whatever the outage's length, with
its session (commands queued meanwhile are delivered), and does not hammer a broker that
accepts and then drops it. Real Mosquitto on loopback, the link's default backoff."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from vksroom.hil.broker import Broker, mosquitto_path
from vksroom.mqtt import contract
from vksroom.mqtt.brokers import Backoff
from vksroom.mqtt.contract import Topics
from vksroom.mqtt.link import MqttLink

from support.mqttkit import Listener, room_config
from support.relay import Relay
from support.room_stub import RoomStub

pytestmark = [pytest.mark.timeout(90), pytest.mark.skipif(not mosquitto_path(), reason="no Mosquitto")]
TOPICS = Topics("vks", "almaty-01", "101")


def _command(listener: Listener, name: str, request_id: str) -> None:
    doc = contract.command_doc(TOPICS, name, request_id=request_id)
    listener.client.publish(TOPICS.commands, contract.encode(doc), qos=1).wait_for_publish(5)


def _replied(listener: Listener, request_id: str):
    return [d for d in listener.docs("/replies") if d.get("request_id") == request_id]


def test_back_within_2s_of_the_broker_after_a_long_outage(tmp_path):
    broker = Broker("mosquitto", persistent=True).start()
    link = MqttLink(RoomStub(), room_config(broker.url, tmp_path)).start()   # the default backoff
    try:
        assert link.ready.wait(10)
        broker.stop()
        # long enough that a doubling backoff (1 s, 2 s, 4 s ... 30 s) would wait 16 s and more
        assert link.wait_until(lambda li: li.backoff.failures >= 7, 20)
        assert not link.connected.is_set()
        broker.start()
        back = time.monotonic()
        assert link.ready.wait(5)
        took = time.monotonic() - back
        assert took <= 2.0, f"reconnected {took:.2f} s after the broker's return"
    finally:
        link.stop(timeout=2)
        broker.close()


def _cpu_s(thread) -> float:
    stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def test_a_room_without_its_broker_waits_asleep(tmp_path):
    """Away from the broker for longer than a heartbeat, the pump sleeps until the link is back
    (it had no heartbeat to send and spun on the one it could not: half a core)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]      # closed again: connections are refused
    link = MqttLink(RoomStub(), room_config(f"mqtt://127.0.0.1:{port}", tmp_path, heartbeat_s=1),
                    backoff=(0.5, 2.0)).start()
    try:
        assert link.wait_until(lambda li: li.backoff.failures >= 2, 10)
        time.sleep(1.2)    # the heartbeat falls due meanwhile
        before, t0 = _cpu_s(link._pump), time.monotonic()
        time.sleep(1.0)    # measuring: what the pump does of its own accord
        used = _cpu_s(link._pump) - before
        assert used <= 0.05 * (time.monotonic() - t0), f"the pump used {used:.2f} s of CPU while the broker was away"
    finally:
        link.stop(timeout=2)


def test_commands_queued_while_the_room_was_away_are_delivered_on_return(tmp_path):
    broker = Broker("mosquitto", persistent=True).start()
    relay = Relay(broker.port)                       # the room's network to the broker
    room = RoomStub()
    link = MqttLink(room, room_config(relay.url, tmp_path)).start()
    centre = Listener(broker.url, [TOPICS.replies], client_id="scheduler", clean=False)
    try:
        assert link.ready.wait(10)
        relay.cut()
        broker.stop()                                # the broker saves the room's session...
        broker.start()                               # ...and has it back
        centre.subscribed.clear()
        assert centre.subscribed.wait(10)
        assert link.wait_until(lambda li: li.backoff.failures >= 5, 20)
        _command(centre, "vks.suspend", "while-away-1")   # the room is not there: the broker queues it
        assert not _replied(centre, "while-away-1")
        relay.open()
        back = time.monotonic()
        assert link.ready.wait(5)
        assert time.monotonic() - back <= 2.0
        reply = centre.wait_for(lambda li: _replied(li, "while-away-1"), timeout=10)[0]
        assert reply["status"] == "accepted"
        assert room.readiness().state.value == "suspended"
    finally:
        link.stop(timeout=2)
        centre.close()
        relay.close()
        broker.close()


def test_a_broker_that_drops_the_room_after_connack_is_not_hammered(tmp_path):
    broker = Broker("mosquitto").start()
    link = MqttLink(RoomStub(), room_config(broker.url, tmp_path)).start()
    # Another client with the room's id takes the session over again and again (as a cluster
    # node that is not the session's home does): every CONNACK is followed by a drop.
    thief = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=link.client_id, protocol=mqtt.MQTTv311,
                        clean_session=False)
    thief.reconnect_delay_set(0.05, 0.05)
    try:
        assert link.ready.wait(10)
        thief.connect_async(broker.host, broker.port, keepalive=5)
        thief.loop_start()
        start, began = link.stats["connects"], time.monotonic()
        assert link.wait_until(lambda li: li.stats["connects"] >= start + 5, 20)
        took = time.monotonic() - began
        # a pause reset by every CONNACK (0.125-0.25 s) makes 5 reconnects in at most 1.25 s;
        # one that keeps growing waits at least 0.125 + 0.25 + 0.5 + 0.75 + 0.75 s
        assert took >= 2.3, f"5 reconnects in {took:.2f} s"
        assert link.backoff.failures >= 5
    finally:
        thief.disconnect()
        thief.loop_stop()
        link.stop(timeout=2)
        broker.close()


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_backoff_is_capped_jittered_and_reset_only_by_a_connection_that_held():
    clock = _Clock()
    low = Backoff(0.25, 1.5, stable=20, rand=lambda: 0.0, clock=clock)
    high = Backoff(0.25, 1.5, stable=20, rand=lambda: 0.999, clock=clock)
    assert [round(low.failed(), 3) for _ in range(6)] == [0.125, 0.25, 0.5, 0.75, 0.75, 0.75]
    assert max(high.failed() for _ in range(50)) < 1.5
    low.connected()
    clock.now += 3                  # dropped 3 s after its CONNACK: still growing
    assert low.failed() == 0.75
    low.connected()
    clock.now += 25                 # held 25 s: the next drop starts afresh
    assert low.failed() == 0.125
