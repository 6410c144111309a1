"""Central-side tools: the simulated fleet speaks the contract; watch shows what it sees."""
from __future__ import annotations

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
