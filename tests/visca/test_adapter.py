"""The controller's camera adapter: connect, poll, self-test checks with role presets."""
import time

import pytest

from vksroom.controller.config import DeviceConfig
from vksroom.controller.devices import CheckContext, adapter_for
from vksroom.drivers.errors import DeviceError


def make_adapter(url, tmp_path, **options):
    cfg = DeviceConfig(id="cam_judge", type="camera", url=url, label="Judge camera", options=options)
    return adapter_for(cfg, tmp_path)


def ctx(tmp_path, seconds=10):
    return CheckContext(deadline=time.monotonic() + seconds, data_dir=tmp_path)


@pytest.fixture
def adapter_and_sim(make_sim, tmp_path):
    sim = make_sim("visca-ip")
    adapter = make_adapter(sim.url, tmp_path, presets={"judge": 1, "witness": 2}, tolerance=4)
    adapter.connect()
    yield adapter, sim
    adapter.close()


def test_connect_poll_and_checks_pass(adapter_and_sim, tmp_path):
    adapter, sim = adapter_and_sim
    assert adapter.poll() == {"power": "on", "pan": sim.pan, "tilt": sim.tilt}
    assert [(c.check, c.ok, c.live) for c in adapter.live_checks(adapter.poll())] == [("power", True, True)]
    assert adapter.version["model"] == "0511"
    results = {r.check: r for r in adapter.checks(ctx(tmp_path))}
    assert set(results) == {"reachable", "power", "version", "preset_judge", "preset_witness"}
    assert all(r.ok for r in results.values()), [r.reason for r in results.values() if not r.ok]
    assert results["preset_witness"].params == {"device": "Judge camera", "preset": 2,
                                                "role": {"kk": "Куә", "ru": "Свидетель", "en": "Witness"}}
    assert sim.counts["preset_recall"] == 2


def test_preset_that_lands_away_from_where_it_was_stored_fails(adapter_and_sim, tmp_path, make_cam):
    adapter, sim = adapter_and_sim
    adapter.cam.move_absolute(400, 100)
    assert adapter.store_role("judge") == {"role": "judge", "preset": 1, "pan": 400, "tilt": 100}
    assert adapter.recall_role("judge")["pan"] == 400
    # someone re-stores preset 1 elsewhere behind our back (e.g. from the camera's remote)
    sim.camera.presets[1] = (900, 100, 0)
    results = {r.check: r for r in adapter.checks(ctx(tmp_path))}
    bad = results["preset_judge"]
    assert not bad.ok and bad.code == "camera.preset_off" and "pan 900" in bad.detail
    assert bad.sentence("ru") == "Judge camera: позиция «Судья» (№ 1) не совпадает с сохранённой"
    assert results["preset_witness"].ok
    # the self-test put the camera back where it was
    assert (sim.pan, sim.tilt) == (400, 100)


def test_standby_camera_fails_power_check(adapter_and_sim, tmp_path):
    adapter, sim = adapter_and_sim
    adapter.cam.standby()
    results = {r.check: r for r in adapter.checks(ctx(tmp_path))}
    assert results["reachable"].ok and not results["power"].ok
    assert results["power"].code == "camera.standby" and "preset_judge" not in results


def test_unreachable_camera_fails_reachable_check(adapter_and_sim, tmp_path):
    adapter, sim = adapter_and_sim
    sim.stop()
    results = adapter.checks(ctx(tmp_path))
    assert [r.check for r in results] == ["reachable"] and not results[0].ok
    with pytest.raises(DeviceError):
        adapter.poll()


def test_unknown_role_is_refused(adapter_and_sim):
    adapter, _ = adapter_and_sim
    with pytest.raises(Exception, match="no preset for role 'usher'"):
        adapter.recall_role("usher")
