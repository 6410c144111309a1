"""Preset recall checked by the picture, end to end: the simulated camera moves over UDP
VISCA, its MJPEG picture follows its pan/tilt/zoom, references are stored in a good
session, and a camera that points the wrong way (or goes out of focus) is named."""
import pytest

from vksroom.app import Stack, capture_missing_references
from vksroom.hil.demo import DemoBench

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def room(tmp_path):
    with DemoBench(panel_port=1, data_dir=str(tmp_path), mqtt=False) as bench:
        stack = Stack(bench.config, mqtt=False, panel=False).start()
        try:
            assert stack.controller.wait_for(lambda r: r.state.value == "ready", 20)
            yield bench, stack.controller
        finally:
            stack.stop()


def failed(result, device):
    return {c["check"] for c in result["readiness"]["devices"][device]["checks"] if not c["ok"]}


def test_preset_pictures_match_their_references_and_a_wrong_view_is_named(room):
    bench, controller = room
    stored = capture_missing_references(controller)
    assert len(stored) == 7            # six roles of the judge camera, one of the hall camera
    assert capture_missing_references(controller) == []   # once: references are not overwritten

    good = controller.selftest("test", timeout=60)
    assert good["state"] == "ready", good["reasons"]
    checks = {c["check"] for c in good["readiness"]["devices"]["cam_judge"]["checks"]}
    assert {"preset_judge.video.drift", "preset_judge.video.blur", "preset_witness.video.black"} <= checks
    assert "video.follows" in checks and "video.follows" not in failed(good, "cam_judge")   # six presets apart

    bench.streams["cam_judge"].set_fault("wrong_view", 3)   # the camera shows 15 degrees off every preset
    wrong = controller.selftest("test", timeout=60)
    assert wrong["state"] == "not_ready"
    assert "preset_judge.video.drift" in failed(wrong, "cam_judge")
    assert not failed(wrong, "cam_hall")

    bench.streams["cam_judge"].set_fault("blur", 2)
    blurred = controller.selftest("test", timeout=60)
    assert "preset_judge.video.blur" in failed(blurred, "cam_judge")
    assert "preset_judge.video.drift" not in failed(blurred, "cam_judge")

    bench.streams["cam_judge"].set_fault("frozen")          # the stream runs on, one picture in it
    frozen = controller.selftest("test", timeout=60)
    assert "video.follows" in failed(frozen, "cam_judge")   # the same picture wherever the camera turned
