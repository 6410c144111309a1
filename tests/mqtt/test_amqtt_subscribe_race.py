"""amqtt loops over its subscriptions and awaits inside the loop when a client connects; a
client subscribing meanwhile used to kill that loop ("dictionary changed size during
iteration"): the broker hung up on the new session right after its CONNACK, and a client
that does not redial at once (the simulated fleet) lost it for good. hil.broker guards against it; this is the crowd that showed it."""
from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
import pytest

from vksroom.hil.broker import Broker

pytest.importorskip("amqtt")
pytestmark = pytest.mark.timeout(60)

ROOMS = 60


def _client(port: int, client_id: str) -> mqtt.Client:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    c.connect_async("127.0.0.1", port)
    return c


def test_a_crowd_connecting_and_subscribing_at_once_is_served_in_full():
    with Broker("amqtt") as broker:
        got: set[str] = set()
        done = threading.Condition()

        def on_message(c, u, msg):
            with done:
                got.add(msg.topic)
                done.notify_all()

        watcher = _client(broker.port, "watcher")
        subscribed = threading.Event()
        watcher.on_message = on_message
        watcher.on_connect = lambda c, u, f, rc, p: c.subscribe([("old/+/state", 1), ("own/+/out", 1)])
        watcher.on_subscribe = lambda *a: subscribed.set()
        watcher.loop_start()
        assert subscribed.wait(10)
        # retained messages under a watched filter: each new session then awaits their replay
        infos = [watcher.publish(f"old/{i}/state", b"x" * 100, qos=1, retain=True) for i in range(300)]
        for info in infos:
            info.wait_for_publish(10)
        assert all(info.is_published() for info in infos)
        dropped: list[str] = []
        crowd = []
        for i in range(ROOMS):
            c = _client(broker.port, f"room-{i}")
            c.on_connect = lambda c, u, f, rc, p, i=i: (c.subscribe(f"own/{i}/cmd", 1),
                                                        c.publish(f"own/{i}/out", b"hi", qos=1))
            c.on_disconnect = lambda c, u, f, rc, p, i=i: dropped.append(f"room-{i}: {rc}")
            crowd.append(c)
        for c in crowd:
            c.loop_start()
        try:
            want = {f"own/{i}/out" for i in range(ROOMS)}
            with done:
                done.wait_for(lambda: want <= got, 30)
            assert sorted(want - got) == []
            assert dropped == []   # the broker hung up on none of them (paho redialled those it did)
        finally:
            for c in crowd + [watcher]:
                c.disconnect()
                c.loop_stop()
