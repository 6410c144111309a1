"""Our driver against our simulator, over every transport: what a technician would notice."""
import time

import pytest

from vksroom.drivers.errors import ConfigError, DeviceRejected, TransportError
from vksroom.drivers.visca import open_camera, parse_url


def test_inquiries(sim_cam):
    sim, cam = sim_cam
    assert cam.power() == "on"
    assert cam.version() == {"vendor": "0020", "model": "0511", "rom": "0102", "sockets": 2}
    assert cam.position() == (0, 0)
    assert cam.zoom_position() == 0
    assert cam.freeze_mode() == "off"
    cam.freeze(True)               # CAM_Freeze on: the camera holds one still picture
    assert sim.frozen and cam.freeze_mode() == "on"
    cam.freeze(False)
    assert not sim.frozen and cam.freeze_mode() == "off"
    assert (sim.counts["freeze_on"], sim.counts["freeze_off"]) == (1, 1)


@pytest.mark.parametrize("transport", ["visca-serial", "visca-ip"])
def test_a_camera_without_freeze_is_asked_once_until_reopened(make_sim, make_cam, transport):
    sim = make_sim(transport, no_freeze=True)
    cam = make_cam(sim.url)
    assert cam.freeze_mode() is None             # it answered error 02: it does not know CAM_Freeze
    assert cam.freeze_mode() is None and sim.counts["rejected"] == 1   # and is not asked again
    with pytest.raises(DeviceRejected, match="VISCA error 02"):
        cam.freeze(False)
    assert cam.power() == "on"                   # the link is fine
    cam.open()                                   # another camera may answer there now
    assert cam.freeze_mode() is None and sim.counts["rejected"] == 3


def test_moves_presets_and_zoom_reach_the_camera(sim_cam):
    sim, cam = sim_cam
    cam.move_absolute(300, -120, speed=0x18)
    assert (sim.pan, sim.tilt) == (300, -120) == cam.position()
    cam.zoom_to(0x2000)
    assert sim.zoom == 0x2000 == cam.zoom_position()
    cam.store(4)
    cam.home()
    assert cam.position() == (0, 0)
    cam.recall(4)
    assert cam.position() == (300, -120) and cam.zoom_position() == 0x2000
    cam.move_relative(-50, 20)
    assert cam.position() == (250, -100)
    cam.drive("left", 0x18, 0x17)
    cam.stop()
    assert sim.counts["pt_drive"] == 2 and sim.counts["pt_relative"] == 1 and sim.counts["preset_set"] == 1


def test_standby_refuses_moves_with_error_41_and_power_on_waits_for_boot(make_sim, make_cam):
    sim = make_sim("visca-ip")
    cam = make_cam(sim.url)
    cam.standby()
    assert cam.power() == "standby" == sim.power
    with pytest.raises(DeviceRejected, match="VISCA error 41") as info:
        cam.recall(1)
    assert info.value.code == 0x41
    sim.camera.o.boot_s = 0.2
    cam.power_on()                 # returns on Completion, after the boot period
    assert cam.power() == "on" and sim.power == "on"


def test_illegal_parameter_is_error_02_from_the_camera(make_sim, make_cam):
    sim = make_sim("visca-tcp", presets=6)
    cam = make_cam(sim.url)
    with pytest.raises(DeviceRejected, match="VISCA error 02") as info:
        cam.recall(10)             # the camera has 6 presets; the driver allows 255
    assert info.value.code == 0x02
    assert cam.power() == "on"     # the link is still fine


def test_values_out_of_range_are_refused_before_sending(make_sim, make_cam):
    sim = make_sim("visca-ip")
    cam = make_cam(sim.url, pan_min=-2267, pan_max=2267, preset_count=16)
    before = sim.wire["in"]
    for call in (lambda: cam.move_absolute(5000, 0), lambda: cam.recall(16), lambda: cam.zoom_to(-5),
                 lambda: cam.drive("up", 0, 1)):
        with pytest.raises(ConfigError):
            call()
    assert sim.wire["in"] == before


@pytest.mark.parametrize("url,words", [
    ("http://x", "unknown scheme"), ("visca-tcp://cam", "no port"), ("visca-serial://", "no device path"),
    ("visca-ip://cam:99999", "port"), ("visca-serial:///dev/x?address=9", "address"),
    ("visca-serial:///dev/x?baud=fast", "baud"), ("visca-ip://cam?colour=red", "unknown parameter"),
])
def test_bad_urls_are_refused(url, words):
    with pytest.raises(ConfigError, match=words):
        parse_url(url)


def test_url_defaults():
    assert parse_url("visca-ip://10.0.0.21")["port"] == 52381
    assert parse_url("visca-serial:///dev/ttyUSB0?baud=38400&address=3") == {
        "scheme": "visca-serial", "address": 3, "path": "/dev/ttyUSB0", "baud": 38400}


def test_unknown_setting_is_refused():
    with pytest.raises(ConfigError, match="unknown camera setting"):
        open_camera("visca-ip://127.0.0.1:9", ack_timout=0.1)


def test_nothing_listening_is_a_clear_error(make_sim):
    sim = make_sim("visca-tcp")
    url = sim.url
    sim.stop()
    with pytest.raises(TransportError, match="cannot connect"):
        open_camera(url)


def test_the_rest_of_the_fact_sheet(make_sim, make_cam):
    sim = make_sim("visca-ip", pan_speed=2000.0, tilt_speed=2000.0, zoom_speed=4000.0)
    cam = make_cam(sim.url)
    cam.focus("manual")
    assert cam.focus_mode() == "manual"
    cam.focus("one-push")
    cam.focus("auto")
    assert cam.focus_mode() == "auto" and sim.counts["focus"] == 3
    cam.zoom("tele", 7)                       # variable speed: zooms until Stop
    deadline = time.monotonic() + 2
    while cam.zoom_position() < 100:          # travelling at finite speed
        assert time.monotonic() < deadline
    cam.zoom("stop")
    stopped = cam.zoom_position()
    assert 0 < stopped == cam.zoom_position() == sim.zoom
    cam.move_absolute(500, 0, wait=False)     # a move that takes ~0.4 s
    while cam.position()[0] < 20:
        assert time.monotonic() < deadline + 2
    assert cam.cancel(1) == "cancelled"
    assert 0 < sim.pan < 500 and cam.position()[0] == sim.pan
    assert cam.cancel(1) == "idle"
    cam.store(3)
    cam.preset_reset(3)
    assert 3 not in sim.camera.presets
    cam.reset()                               # pan-tilt reset: back to home, via the ends
    assert cam.position() == (0, 0)


def test_bad_settings_are_refused_at_config_time(tmp_path):
    from vksroom.controller.config import DeviceConfig
    from vksroom.controller.devices import adapter_for

    for settings, words in (({"ack_timout": 1}, "unknown camera setting"),
                            ({"sequence": "random"}, "sequence"),
                            ({"retries": "many"}, "retries")):
        cfg = DeviceConfig(id="cam", type="camera", url="visca-ip://127.0.0.1:9", options={"settings": settings})
        with pytest.raises(ConfigError, match=words):
            adapter_for(cfg, tmp_path)
