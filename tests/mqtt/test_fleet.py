"""Central-side tools: the simulated fleet speaks the contract; watch shows what it sees."""
from __future__ import annotations

import logging

import pytest

from vksroom.cli import main
from vksroom.mqtt.fleet import Fleet, Watcher
from vksroom.mqtt.link import MqttLink

from support.mqttkit import room_config

pytestmark = pytest.mark.timeout(60)


def test_simulated_rooms_are_seen_by_the_watcher_without_losing_a_change(broker):
    watcher = Watcher(broker.url).start()
    assert watcher.subscribed.wait(10)
    fleet = Fleet(broker.url, rooms=30, interval=0.2).start()
    try:
        assert watcher.wait_for(lambda w: len(w.rooms) == 30 and all(
            r["lifecycle"] == "ready" for r in w.rooms.values()), 20)
        assert watcher.wait_for(lambda w: sum(map(len, w.readiness_seqs.values())) >= 150, 20)
    finally:
        fleet.stop()
    # every readiness the broker acknowledged reached the watcher, in order
    for room in fleet.rooms:
        key = (room.topics.court_id, room.topics.courtroom)
        assert watcher.wait_for(lambda w: set(room.sent) <= set(w.readiness_seqs.get(key, [])), 10), key
        seen = watcher.readiness_seqs[key]
        assert seen == sorted(seen)
    watcher.stop()


def test_watch_once_prints_the_rooms_table(broker, room, tmp_path, capsys):
    link = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert link.ready.wait(10) and link.flush(10)
        assert main(["fleet", "watch", "--broker", broker.url, "--once", "--wait", "2"]) == 0
    finally:
        link.stop(timeout=2)
    out = capsys.readouterr().out
    line = next(li for li in out.splitlines() if li.startswith("almaty-01"))
    assert line.split()[1:4] == ["101", "ready", "ready"]
    assert "1 rooms: 1 ready" in out


def test_bad_broker_url_is_a_usage_error(capsys):
    assert main(["fleet", "watch", "--broker", "http://x", "--once"]) == 2
    assert "use mqtt://HOST:PORT" in capsys.readouterr().err


def test_the_fleet_and_the_watcher_come_back_by_themselves_when_the_broker_restarts(mosquitto, caplog):
    caplog.set_level(logging.WARNING, logger="vksroom.mqtt.fleet")
    watcher = Watcher(mosquitto.url).start()
    fleet = Fleet(mosquitto.url, rooms=3, interval=0).start()      # readiness only when a room (re)connects
    try:
        assert watcher.wait_for(lambda w: len(w.readiness_seqs) == 3, 10)
        before = {room: max(seqs) for room, seqs in watcher.readiness_seqs.items()}
        mosquitto.stop()
        # down long enough for every room to have tried, and failed, again and again
        assert fleet.wait_for(lambda f: all(r.backoff.failures >= 3 for r in f.rooms), 15)
        mosquitto.start()
        assert fleet.wait_for(lambda f: f.connected == 3, 10)
        assert watcher.wait_for(lambda w: all(max(w.readiness_seqs[room]) > seq for room, seq in before.items()), 10)
    finally:
        fleet.stop()
        watcher.stop()
    said = [r.getMessage() for r in caplog.records]
    # each link said it once per transition, not once per attempt
    assert sorted(m.split(":")[0] for m in said if " lost (" in m) == \
        ["fleet watch", "sim room r00000", "sim room r00001", "sim room r00002"], said
    assert sorted(m.split(":")[0] for m in said if m.endswith("again")) == \
        ["fleet watch", "sim room r00000", "sim room r00001", "sim room r00002"], said
