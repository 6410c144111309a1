"""Liveness without the Will: the room republishes its readiness every heartbeat, valid for
1.25 heartbeats; the scheduler (mqtt/fleet.py) shows a room lost once that has passed."""
from __future__ import annotations

import time

import pytest

from support.mqttkit import Listener, room_config
from support.relay import Relay
from support.room_stub import RoomStub
from vksroom.hil.broker import Broker
from vksroom.mqtt import contract
from vksroom.mqtt.fleet import Watcher
from vksroom.mqtt.link import MqttLink

pytestmark = pytest.mark.timeout(60)
KEY = ("almaty-01", "101")


def test_readiness_is_republished_every_heartbeat_and_valid_for_one_and_a_quarter(broker, tmp_path):
    link = MqttLink(RoomStub(), room_config(broker.url, tmp_path, heartbeat_s=1), backoff=(0.1, 0.5)).start()
    sub = Listener(broker.url, ["vks/almaty-01/101/readiness"])
    try:
        # (on a broker shared with other tests, a retained readiness of another heartbeat may come first)
        beats = lambda li: [d for d in li.docs() if d.get("heartbeat_s") == 1]   # noqa: E731
        docs = sub.wait_for(lambda li: len(beats(li)) >= 4 and beats(li), timeout=10)
        for doc in docs:
            contract.check("readiness", doc)
            assert doc["valid_until"] <= time.time() + 1.25
        untils = [d["valid_until"] for d in docs]
        assert untils == sorted(untils) and untils[-1] - untils[0] >= 1.5   # moving on, about one a second
    finally:
        link.stop(timeout=2)
        sub.close()


def test_a_room_that_goes_silent_is_shown_lost_within_one_and_a_half_heartbeats(tmp_path):
    broker = Broker("auto").start()
    relay = Relay(broker.port)
    # keepalive 60 s: the broker would publish the Will only after 90 s of silence
    link = MqttLink(RoomStub(), room_config(relay.url, tmp_path, keepalive=60, heartbeat_s=2),
                    backoff=(0.1, 0.5)).start()
    watcher = Watcher(broker.url).start()
    try:
        assert link.ready.wait(10)
        assert watcher.wait_for(lambda w: w.snapshot().get(KEY, {}).get("lifecycle") == "ready", 10)
        assert not watcher.wait_lost(KEY, 3.5), "a room that keeps beating is not lost"
        relay.freeze()                  # the network goes silent: no FIN, no RST, no Will
        silent = time.monotonic()
        assert watcher.wait_lost(KEY, 10)
        took = time.monotonic() - silent
        assert took <= 1.5 * 2, f"shown lost {took:.2f} s after the room went silent"
        row = watcher.snapshot()[KEY]
        assert row["lifecycle"] == "ready"   # the broker said nothing: the heartbeat told
        assert "lost" in watcher.table()
    finally:
        relay.thaw()
        link.stop(timeout=2)
        watcher.stop()
        relay.close()
        broker.close()
