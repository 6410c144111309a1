"""The contract on a two-node RabbitMQ cluster (rabbitmq_mqtt, MQTT 3.1.1), started here on
127.0.0.1 from Debian's rabbitmq-server: where retained state is node-local, where no Will
comes when a node dies, and where a session's queue lives on one node.

- a scheduler joining late on node B sees every room (on node A) within 2 s;
- a room whose node is stopped is on the other node within 5 s, and its commands work;
- a room killed with its node is shown lost within 1.5 x its heartbeat.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

import pytest

from support.mqttkit import Listener, room_config
from support.rabbit import RabbitCluster, Unavailable, missing
from support.room_stub import RoomStub
from support.roomproc import read_until, spawn
from vksroom.mqtt import contract
from vksroom.mqtt.contract import Topics
from vksroom.mqtt.fleet import Watcher
from vksroom.mqtt.link import MqttLink

pytestmark = [pytest.mark.timeout(240), pytest.mark.skipif(bool(missing()), reason=str(missing()))]
HEARTBEAT = 2


@pytest.fixture(scope="module")
def cluster():
    try:
        c = RabbitCluster(2).start()
    except Unavailable as exc:
        pytest.skip(f"no RabbitMQ cluster here: {exc}")
    yield c
    c.close()


def _links(rooms, urls, tmp_path):
    links = [MqttLink(RoomStub(courtroom=r), room_config(urls[0], tmp_path / r, room=r, urls=tuple(urls),
                                                         heartbeat_s=HEARTBEAT)).start() for r in rooms]
    for link in links:
        assert link.ready.wait(20), link.last_error
        assert link.protocol_name == "3.1.1"     # RabbitMQ 3.10: fell back on its CONNACK
    return links


def test_a_late_scheduler_on_node_b_sees_every_room_within_2s(cluster, tmp_path):
    a, b = cluster.nodes
    rooms = [f"late{i}" for i in range(6)]
    links = _links(rooms, [a.url, b.url], tmp_path)
    try:
        for link in links:
            assert link.flush(10)
        watcher = Watcher(b.url).start()
        try:
            assert watcher.subscribed.wait(10)
            asked = time.monotonic()
            everyone = {("almaty-01", r) for r in rooms}
            assert watcher.wait_for(lambda w: everyone <= {k for k, row in w.snapshot().items()
                                                           if row["state"] == "ready" and row["lifecycle"] == "ready"},
                                    5), watcher.table()
            took = time.monotonic() - asked
            print(f"late scheduler on node B: {len(rooms)} rooms seen in {took:.2f} s")
            assert took <= 2.0, f"every room seen {took:.2f} s after the scheduler joined"
        finally:
            watcher.stop()
    finally:
        for link in links:
            link.stop(timeout=2)


def test_a_room_killed_with_its_node_is_shown_lost_within_one_and_a_half_heartbeats(cluster, tmp_path):
    a, b = cluster.nodes
    watcher = Watcher(a.url).start()
    proc = spawn(b.url, tmp_path, "--room", "doomed", "--heartbeat", HEARTBEAT, "--keepalive", 30)
    key = ("almaty-01", "doomed")
    try:
        read_until(proc, "ready")
        assert watcher.wait_for(lambda w: w.snapshot().get(key, {}).get("state") == "ready", 10)
        gone = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)          # the room and the node under it die together:
        b.kill()                                   # no broker is left to publish its Will
        assert watcher.wait_lost(key, 10), watcher.table()
        took = time.monotonic() - gone
        print(f"room killed with its node: shown lost after {took:.2f} s (heartbeat {HEARTBEAT} s)")
        assert took <= 1.5 * HEARTBEAT, f"shown lost {took:.2f} s after the room died"
    finally:
        proc.kill()
        proc.wait()
        watcher.stop()
        b.start()                                  # back for the next test


def test_a_room_on_a_stopped_node_is_on_the_other_within_5s_and_commands_work(cluster, tmp_path):
    a, b = cluster.nodes
    [link] = _links(["mover"], [a.url, b.url], tmp_path)
    t = Topics("vks", "almaty-01", "mover")
    centre = Listener(b.url, [t.replies], client_id="scheduler-b", clean=False)
    try:
        assert link.url == a.url
        stopped = time.monotonic()
        a.stop()
        assert link.wait_until(lambda li: li.ready.is_set() and li.url == b.url, 10), link.last_error
        took = time.monotonic() - stopped
        print(f"node A stopped: the room on node B after {took:.2f} s")
        assert took <= 5.0, f"on node B {took:.2f} s after node A stopped"
        doc = contract.command_doc(t, "vks.suspend", {"reason": "cluster test"}, request_id="on-b")
        centre.client.publish(t.commands, contract.encode(doc), qos=1).wait_for_publish(5)
        reply = centre.wait_for(lambda li: [d for d in li.docs("/replies") if d["request_id"] == "on-b"])[0]
        assert reply["status"] == "accepted"
        assert link.controller.readiness().state.value == "suspended"
    finally:
        link.stop(timeout=2)
        centre.close()


FIRMWARE = Path(__file__).parents[2] / "firmware"


def test_the_rabbitmq_permissions_keep_each_room_in_its_own_topics(cluster, tmp_path):
    a = cluster.nodes[1]   # the node still running after the tests above (node A was stopped)
    rooms = tmp_path / "rooms"
    rooms.write_text("almaty-01/201 pw-201\nalmaty-01/202 pw-202\nscheduler pw-sched\n")
    wrapper = tmp_path / "bin" / "rabbitmqctl"   # the script's commands, pointed at this node
    wrapper.parent.mkdir()
    wrapper.write_text(f"#!/bin/sh\nexec /usr/lib/rabbitmq/bin/rabbitmqctl -n {a.name} \"$@\"\n")
    wrapper.chmod(0o755)
    commands = subprocess.run(["sh", str(FIRMWARE / "rabbitmq" / "vksroom-permissions.sh"), str(rooms)],
                              check=True, capture_output=True, text=True).stdout
    env = {**a.env(), "PATH": f"{wrapper.parent}:{os.environ['PATH']}"}
    subprocess.run(["sh", "-e"], input=commands, env=env, check=True, capture_output=True, text=True, timeout=120)

    r201, r202 = Topics("vks", "almaty-01", "201"), Topics("vks", "almaty-01", "202")
    sched = Listener(a.url, ["vks/#"], username="scheduler", password="pw-sched")
    link = MqttLink(RoomStub(courtroom="201"), room_config(a.url, tmp_path / "201", room="201",
                                                           username="almaty-01/201", password="pw-201")).start()
    intruder = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="vksroom-almaty-01-201-9",
                           protocol=mqtt.MQTTv311)
    intruder.username_pw_set("almaty-01/201", "pw-201")
    refused = threading.Event()
    intruder.on_disconnect = lambda *args: refused.set()
    try:
        assert link.ready.wait(20), link.last_error      # its own topics and the status request: allowed
        sched.wait_for(lambda li: li.docs(r201.readiness))
        intruder.connect("127.0.0.1", a.mqtt_port)
        intruder.loop_start()
        intruder.publish(r202.readiness, b'{"forged": true}', qos=1)     # RabbitMQ closes the connection
        assert refused.wait(10), "RabbitMQ let room 201 publish into room 202's readiness"
        doc = contract.command_doc(r201, "status.send", request_id="acl-ok")
        sched.client.publish(r201.commands, contract.encode(doc), qos=1).wait_for_publish(5)
        assert sched.wait_for(lambda li: [d for d in li.docs("/replies") if d["request_id"] == "acl-ok"])
        assert not [m.topic for m in sched.messages if m.topic.startswith(r202.base)]
    finally:
        intruder.loop_stop()
        link.stop(timeout=2)
        sched.close()
