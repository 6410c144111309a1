"""An ONVIF camera in a room, through the same paths as a VISCA one: the room file, the
coordinator's poll, the self-test with its preset and picture checks (the picture read from
the stream the camera itself names), the panel's camera page, and the readiness the centre
receives over a real broker. Nothing above drivers/ knows it is ONVIF."""
import pytest

from vksroom.app import Stack, readiness_topic
from vksroom.controller.config import parse
from vksroom.drivers.camera import open_ptz
from vksroom.hil.broker import Broker
from vksroom.hil.onvif_camera import OnvifCameraSimulator

from support.e2ekit import Watcher, free_port, get_json, get_text

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def room(tmp_path):
    sim = OnvifCameraSimulator(video=True).start()
    broker = Broker("auto").start()
    try:
        sim.finish_boot()
        with open_ptz(sim.url) as cam:          # the technician stored the judge's view once
            cam.move_to(0.2, -0.1, 0.3)
            cam.store(1)
            cam.move_to(-0.5, 0.2, 0.0)
        cfg = parse({
            "room": {"court_id": "ast-01", "courtroom": "5", "data_dir": str(tmp_path)},
            "devices": {"cam_judge": {"type": "camera", "url": sim.url, "presets": {"judge": 1},
                                      "label": {"kk": "Судья камерасы", "ru": "Камера судьи"}}},
            "mqtt": {"url": broker.url, "keepalive": 5,
                     "protocol": "3.1.1" if broker.kind == "amqtt" else "auto"},
            "panel": {"host": "127.0.0.1", "port": free_port()},
            "selftest": {"poll_interval_s": 0.5, "check_timeout_s": 20},
        })
        stack = Stack(cfg).start()
        watcher = Watcher(cfg.mqtt.url, f"{cfg.mqtt.topic_prefix}/#")
        try:
            yield sim, stack, watcher
        finally:
            watcher.close()
            stack.stop()
    finally:
        broker.stop()
        sim.stop()


def test_an_onvif_camera_is_tested_shown_and_reported_like_any_camera(room):
    sim, stack, watcher = room
    ctl = stack.controller
    assert ctl.wait_for(lambda r: r.verdict.value == "ready", 20), ctl.readiness().to_dict()

    result = ctl.selftest("manual", timeout=60)
    checks = {c["check"]: c for c in result["readiness"]["devices"]["cam_judge"]["checks"]}
    assert result["state"] == "ready", result["reasons"]
    assert checks["preset_judge"]["ok"] and checks["version"]["ok"]
    assert checks["preset_judge.video.signal"]["ok"]           # the picture came from the camera's own stream URI
    assert sim.wait_still() and abs(sim.positions()[0] + 0.5) < 0.01   # back where the technician left it

    doc = watcher.wait(readiness_topic(stack.cfg), lambda d: d.get("verdict") == "ready"
                       and d["devices"]["cam_judge"]["health"] == "ok", 10)
    assert doc is not None and doc["devices"]["cam_judge"]["label"] == "Камера судьи"

    page = get_text(stack.panel_url + "camera/cam_judge")       # the panel's camera page answers in neutral units
    assert "Камера судьи" in page
    state = get_json(stack.panel_url + "api/readiness")["devices"]["cam_judge"]["values"]
    assert state["power"] == "on" and -1 <= state["pan"] <= 1

    sim.unplug()                                                 # lost and back like any device
    assert ctl.wait_for(lambda r: r.device("cam_judge").health.value == "fault", 5)
    sim.replug()
    assert ctl.wait_for(lambda r: r.device("cam_judge").health.value == "ok", 10)
