"""`vks-room selftest --config FILE --json` against the simulated courtroom."""
import json
import subprocess
import sys
import time

import pytest

from vksroom.hil.demo import DemoBench

pytestmark = pytest.mark.timeout(120)


def selftest(config_path):
    run = subprocess.run([sys.executable, "-m", "vksroom", "selftest", "--config", str(config_path), "--json"],
                         capture_output=True, text=True, timeout=90)
    return run.returncode, (json.loads(run.stdout) if run.stdout.strip() else None), run.stderr


def test_selftest_json_ready_then_not_ready_naming_the_device(tmp_path):
    with DemoBench(panel_port=1, data_dir=str(tmp_path), mqtt=False) as bench:
        time.sleep(0.5)  # the simulated cameras' power-up period (0.3 s), as after switching a real room on
        code, doc, err = selftest(bench.config_path)
        assert code == 0, (doc, err)
        assert doc["state"] == "ready" and doc["room"]["court_id"] == "demo-court"
        cam = doc["devices"]["cam_judge"]
        assert cam["ok"] and cam["checks"]["preset_judge"]["ok"]
        assert set(doc["devices"]) == {"cam_judge", "cam_hall", "codec", "dsp"}

        bench.cameras["cam_judge"].stop()
        code, doc, err = selftest(bench.config_path)
        assert code == 1
        assert doc["state"] == "not_ready"
        assert not doc["devices"]["cam_judge"]["ok"]
        assert "Камера судьи не отвечает" in doc["reasons"], doc["reasons"]
        assert doc["devices"]["codec"]["ok"]


def test_selftest_with_a_bad_config_exits_2_with_the_key_path(tmp_path):
    bad = tmp_path / "room.toml"
    bad.write_text('[room]\ncourt_id = "x"\ncourtroom = "1"\n[devices.cam]\ntype = "camera"\nurl = "rtsp://cam"\n')
    code, doc, err = selftest(bad)
    assert code == 2 and doc is None
    assert "devices.cam.url: unknown scheme 'rtsp'" in err and "Traceback" not in err
