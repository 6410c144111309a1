"""The room's verdict from device facts, with stand-in adapters for devices.

The adapters here are test devices (a flag decides whether they answer), so these
tests are about the room's logic: parallel checks, deadlines, required/optional,
loss and return, events and the SQLite record.
"""
import threading

import pytest

from vksroom.controller import events as ev
from vksroom.controller.model import RoomState
from vksroom.controller.texts import Refused


def test_all_devices_answering_makes_the_room_ready(make_room):
    room, _ = make_room()
    r = room.wait_for(lambda r: r.state is RoomState.READY, 3)
    assert r is not None, room.readiness()
    result = room.selftest()
    assert result["state"] == "ready"
    assert {d["health"] for d in result["readiness"]["devices"].values()} == {"ok"}


def test_optional_device_down_degrades_and_required_down_is_not_ready(make_room):
    room, devs = make_room()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    devs["cam2"].up.clear()
    r = room.wait_for(lambda r: r.state is RoomState.DEGRADED, 3)
    # a device the config names no label for is named by its kind and position, never by its id
    assert r is not None and r.reasons == ("Камера 2 не отвечает",)
    devs["cam1"].up.clear()
    r = room.wait_for(lambda r: r.state is RoomState.NOT_READY, 3)
    assert r is not None and r.reasons == ("Judge camera не отвечает", "Камера 2 не отвечает")
    assert r.reason_lines("kk") == ["Judge camera жауап бермейді", "2-камера жауап бермейді"]
    cam1 = r.to_dict()["devices"]["cam1"]
    assert cam1["reason"] == "Judge camera не отвечает" and cam1["text"]["en"] == "Judge camera does not answer"
    assert "gave no answer" not in str(r.to_dict()["reasons"])
    devs["cam1"].up.set()
    devs["cam2"].up.set()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)


def test_loss_and_return_are_announced_once_each(make_room):
    room, devs = make_room()
    seen = []
    room.events.subscribe(lambda e: seen.append(e) if e.kind in (ev.DEVICE_FAULT, ev.DEVICE_RECOVERED) else None)
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    devs["codec"].up.clear()
    assert room.wait_for(lambda r: r.state is RoomState.NOT_READY, 3)
    devs["codec"].wait_polls(2, counter="attempts")    # more failed attempts must not announce it again
    devs["codec"].up.set()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    assert [(e.kind, e.data["device"]) for e in seen] == [(ev.DEVICE_FAULT, "codec"), (ev.DEVICE_RECOVERED, "codec")]
    assert seen[0].data["reason"] == "Кодек не отвечает" and seen[0].data["text"]["kk"] == "Кодек жауап бермейді"
    log = room.store.query("SELECT device, available FROM device_log WHERE device='codec' ORDER BY id")
    assert [(r["device"], r["available"]) for r in log[-2:]] == [("codec", 0), ("codec", 1)]


def test_new_values_alone_are_read_not_announced(make_room):
    """Each poll's new levels reach readiness (the panel reads them) but are not a change the
    centre is sent: no readiness event, no MQTT message, per poll."""
    room, devs = make_room()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    announced = []
    room.events.subscribe(lambda e: announced.append(e) if e.kind == ev.READINESS else None)
    for level in (-30.0, -20.0, -10.0):
        devs["codec"].extra = {"level": level}
        assert room.wait_for(lambda r: r.device("codec").values.get("level") == level, 3)
    assert announced == []


def test_checks_run_in_parallel_and_a_hung_device_times_out_alone(make_room):
    hang = threading.Event()
    both = threading.Barrier(2, timeout=10)     # passed only by the two cameras' checks running at once
    room, devs = make_room(check_timeout=1.0, cam1={"meet": both}, cam2={"meet": both}, codec={"hang": hang})
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    result = room.selftest()
    codec_still_hung = devs["codec"].checking     # the self-test did not wait for it
    hang.set()
    assert result["state"] == "not_ready"
    assert result["reasons"] == ["Кодек: проверка не завершилась за 1 с"]    # the cameras passed: in parallel
    assert codec_still_hung
    stored = room.store.runs(1)[0]
    assert stored["state"] == "not_ready" and stored["reasons"] == result["reasons"]
    assert {r.device for r in room.store.results(stored["id"])} == {"cam1", "cam2", "codec"}


def test_suspension_overrides_and_refuses_tests(make_room):
    room, _ = make_room()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    with pytest.raises(ValueError, match="reason"):
        room.command("vks.suspend", {})
    assert room.readiness().state is RoomState.READY
    room.command("vks.suspend", {"reason": "emergency at the detention centre"})
    assert room.readiness().state is RoomState.SUSPENDED
    with pytest.raises(ValueError, match="suspended"):
        room.run_selftest()
    room.command("vks.resume", {})
    assert room.readiness().state is RoomState.READY
    with pytest.raises(Refused, match="no such command"):
        room.command("reboot", {})


def test_a_stored_check_keeps_its_detail_and_an_old_database_gains_the_column(tmp_path):
    import sqlite3

    from vksroom.controller.model import CheckResult
    from vksroom.controller.store import Store

    path = tmp_path / "room.sqlite3"
    with sqlite3.connect(path) as db:   # a database from before: check_results without 'detail'
        db.execute("CREATE TABLE check_results (run_id INTEGER NOT NULL, device TEXT NOT NULL, check_name TEXT "
                   "NOT NULL, ok INTEGER NOT NULL, reason TEXT NOT NULL, value TEXT, code TEXT, params TEXT, "
                   "duration_s REAL, at REAL NOT NULL)")
    store = Store(path)
    try:
        run = store.start_run("manual", 1.0)
        store.finish_run(run, "not_ready", [], [CheckResult("codec", "reachable", False, code="device.unreachable",
                                                            detail="[Errno 5] Input/output error")], 2.0)
        [back] = store.results(run)
        assert back.detail == "[Errno 5] Input/output error" and back.code == "device.unreachable"
    finally:
        store.close()
