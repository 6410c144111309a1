"""A second `vks-room` process on a running room: one controller per room.

A real `vks-room run` drives the simulated courtroom (cameras over UDP, codec and DSP on
ptys). A second `run` or `demo` is refused naming it; `selftest` is answered by it,
without a second session on any device; a room held by a process that does not answer
is not tested; after a kill -9 a new `run` starts."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from support.e2ekit import free_port
from vksroom.controller import instance
from vksroom.hil.demo import DemoBench

pytestmark = pytest.mark.timeout(150)

SESSION_SETUP = "xPreferences OutputMode Terminal"   # what each controller sends once the codec's port is opened


def vks(*args, timeout=90):
    return subprocess.run([sys.executable, "-m", "vksroom", *args], capture_output=True, text=True, timeout=timeout)


class RunningRoom:
    """`vks-room run --config FILE` in its own process; its output goes to a file."""

    def __init__(self, config_path, log_path):
        self.data_dir = config_path.parent
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "vksroom", "run", "--config", str(config_path)],
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.proc.pid

    def readiness(self, grace=0.0):
        return instance.ask(self.data_dir, "readiness", 5, grace=grace)

    def wait_ready(self, timeout=40.0) -> dict:
        """The room's readiness, asked through its control socket, once it says ready."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            try:
                last = self.readiness()
                if last["state"] == "ready":
                    return last
            except instance.InstanceError as exc:   # still starting
                last = str(exc)
            time.sleep(0.1)
        raise AssertionError(f"not ready within {timeout} s: {last}\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def bench(tmp_path):
    with DemoBench(panel_port=free_port(), data_dir=str(tmp_path), mqtt=False) as bench:
        # no broker here: the room's MQTT link points at a closed loopback port and keeps retrying
        text = bench.config_path.read_text().replace('url = "mqtt://127.0.0.1:1883"',
                                                     f'url = "mqtt://127.0.0.1:{free_port()}"')
        bench.config_path.write_text(text)
        yield bench


@pytest.fixture
def room_processes(tmp_path):
    rooms = []

    def start(config_path):
        room = RunningRoom(config_path, tmp_path / f"run-{len(rooms)}.log")
        rooms.append(room)
        return room

    yield start
    for room in rooms:
        room.stop()


def device_losses(data_dir, after_row: int) -> list[dict]:
    """Losses the running controller logged after ``after_row`` (its own store, read only)."""
    db = sqlite3.connect(f"file:{data_dir / 'room.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT rowid, device, reason FROM device_log WHERE available = 0 AND rowid > ?",
                          (after_row,)).fetchall()
    finally:
        db.close()
    return [{"row": r[0], "device": r[1], "reason": r[2]} for r in rows]


def last_device_row(data_dir) -> int:
    db = sqlite3.connect(f"file:{data_dir / 'room.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COALESCE(MAX(rowid), 0) FROM device_log").fetchone()[0]
    finally:
        db.close()


def device_sessions(bench) -> dict:
    """How often each device was set up: the codec's session set-up line, each camera's
    VISCA-over-IP RESET (sent by every controller that opens it)."""
    return {"codec": bench.codec.received.count(SESSION_SETUP),
            **{name: sim.camera.counts["reset"] for name, sim in bench.cameras.items()}}


def test_a_second_run_or_demo_on_the_same_room_is_refused_naming_the_first(bench, room_processes, tmp_path):
    first = room_processes(bench.config_path)
    first.wait_ready()
    sessions = device_sessions(bench)
    assert sessions["codec"] == 1, sessions
    config_text = bench.config_path.read_text()

    second = vks("run", "--config", str(bench.config_path), timeout=60)
    assert second.returncode == 2, second.stderr
    assert f"already held by vks-room run (pid {first.pid})" in second.stderr
    assert "one controller per room" in second.stderr and "Traceback" not in second.stderr

    demo = vks("demo", "--port", str(free_port()), "--data-dir", str(tmp_path), timeout=60)
    assert demo.returncode == 2, demo.stderr
    assert f"(pid {first.pid})" in demo.stderr and "Traceback" not in demo.stderr
    assert bench.config_path.read_text() == config_text   # the demo bench did not write into the room's folder

    assert device_sessions(bench) == sessions   # neither opened a device
    assert first.proc.poll() is None and first.readiness()["state"] == "ready"


def test_selftest_on_a_running_room_is_answered_by_the_running_controller(bench, room_processes):
    room = room_processes(bench.config_path)
    room.wait_ready()
    sessions = device_sessions(bench)
    since = last_device_row(room.data_dir)

    run = vks("selftest", "--config", str(bench.config_path), "--json")
    assert run.returncode == 0, (run.stdout, run.stderr, room.log())
    doc = json.loads(run.stdout)
    assert set(doc) == {"room", "run_id", "state", "ready", "reasons", "devices"}   # the shape printed today
    assert doc["state"] == "ready" and doc["ready"] is True and doc["room"]["court_id"] == "demo-court"
    assert set(doc["devices"]) == {"cam_judge", "cam_hall", "codec", "dsp"}
    assert doc["devices"]["cam_judge"]["checks"]["preset_judge"]["ok"]

    db = sqlite3.connect(f"file:{room.data_dir / 'room.sqlite3'}?mode=ro", uri=True)
    try:
        stored = db.execute("SELECT state, finished_at FROM selftest_runs WHERE id = ?", (doc["run_id"],)).fetchone()
    finally:
        db.close()
    assert stored is not None and stored[0] == "ready" and stored[1] is not None   # the running room's own run

    text = vks("selftest", "--config", str(bench.config_path))
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[0] == "demo-court courtroom 7: READY"
    assert {line.split()[1] for line in text.stdout.splitlines()[1:]} == {"cam_judge", "cam_hall", "codec", "dsp"}

    assert device_sessions(bench) == sessions, "a second process opened a device"
    assert device_losses(room.data_dir, since) == []   # the running room's devices stayed up throughout
    assert room.readiness()["state"] == "ready"


def test_a_held_room_that_does_not_answer_is_not_tested_behind_its_back(bench):
    # A process holds the room without serving its control socket (a hung controller):
    # selftest refuses, exit 2, and opens no device.
    with instance.RoomLock(bench.data_dir).acquire("run"):
        run = vks("selftest", "--config", str(bench.config_path), "--json")
    assert run.returncode == 2, run.stderr
    assert f"already held by vks-room run (pid {os.getpid()}), but it does not answer" in run.stderr
    assert "not opening the devices" in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""
    assert bench.codec.received.count(SESSION_SETUP) == 0


def test_run_does_not_start_under_a_stand_alone_selftest(bench):
    with instance.RoomLock(bench.data_dir).acquire("selftest"):   # `vks-room selftest` with no controller running
        run = vks("run", "--config", str(bench.config_path), timeout=60)
    assert run.returncode == 2, run.stderr
    assert f"already held by vks-room selftest (pid {os.getpid()}), which is testing the devices now" in run.stderr
    assert bench.codec.received.count(SESSION_SETUP) == 0


def test_after_kill_9_a_new_run_starts(bench, room_processes):
    first = room_processes(bench.config_path)
    first.wait_ready()
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(10)

    second = room_processes(bench.config_path)   # the lock died with the process; its socket file is replaced
    second.wait_ready()
    assert (bench.data_dir / instance.LOCK_FILE).read_text() == f"{second.pid} run\n"
    assert instance.ask(bench.data_dir, "selftest", 60)["state"] == "ready"
