"""The bench runner runs the room's own device checks; here pointed at the simulators,
on the bench at real devices."""
import json
import subprocess
import sys

import pytest

from vksroom.hil.demo import DemoBench

pytestmark = pytest.mark.timeout(120)


def hil(config, *extra):
    run = subprocess.run([sys.executable, "-m", "vksroom", "hil", "--config", str(config), "--polls", "5", *extra],
                         capture_output=True, text=True, timeout=100)
    return run.returncode, run.stdout, run.stderr


def test_runner_passes_working_devices_and_names_a_dead_one(tmp_path):
    with DemoBench(panel_port=1, data_dir=str(tmp_path), mqtt=False) as bench:
        code, out, err = hil(bench.config_path, "--device", "codec", "--device", "dsp", "--device", "cam_hall",
                             "--json")
        assert code == 0, (out, err)
        reports = {r["device"]: r for r in json.loads(out)}
        assert set(reports) == {"codec", "dsp", "cam_hall"}
        assert any(c["check"] == "preset_wide" and c["ok"] for c in reports["cam_hall"]["checks"])
        assert reports["codec"]["connect"]["ok"] and reports["codec"]["poll"]["failed"] == 0
        assert any(c["check"] == "test_call" and c["ok"] for c in reports["codec"]["checks"])

        bench.codec.unplug()
        code, out, err = hil(bench.config_path, "--device", "codec")
        assert code == 1 and out.startswith("FAIL  codec")

        code, out, err = hil(bench.config_path, "--device", "projector")
        assert code == 2 and "no device projector" in err


def test_runner_refuses_a_room_a_controller_runs(tmp_path):
    from vksroom.controller.instance import RoomLock

    with DemoBench(panel_port=1, data_dir=str(tmp_path), mqtt=False) as bench:
        lock = RoomLock(bench.config.data_dir).acquire("run")   # as the running controller holds it
        sessions = bench.codec.sessions_started
        try:
            code, out, err = hil(bench.config_path, "--device", "codec")
        finally:
            lock.release()
        assert code == 2 and "already held by vks-room run" in err and out == ""
        assert bench.codec.sessions_started == sessions   # the codec was never opened
