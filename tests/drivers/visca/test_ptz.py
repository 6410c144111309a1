"""VISCA behind the neutral PTZ interface: the units the room and the panel use become the
camera's own, with its configured range; error 41 on the power inquiry is "not ready"."""

import pytest

from vksroom.drivers.camera import Position, PtzCamera, check_ptz
from vksroom.drivers.errors import ConfigError, DeviceNotReady

from support.visca_sims import TRANSPORTS
from support.viscakit import until


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_visca_scheme_opens_a_ptz_camera_that_moves_in_neutral_units(make_sim, make_ptz, transport):
    sim = make_sim(transport)
    cam = make_ptz(sim.url)
    assert isinstance(cam, PtzCamera) and cam.protocol == "visca" and cam.power() == "on"
    cam.move_to(1.0, -1.0, zoom=1.0)
    assert (sim.pan, sim.tilt, sim.zoom) == (0x08DB, -0x0190, 0x4000)    # an EVI-D70's right, down, optical tele
    assert cam.position() == Position(1.0, -1.0, 1.0)
    assert cam.state() == {"power": "on", "protocol": "visca", "pan": 1.0, "tilt": -1.0, "zoom": 1.0}


def test_a_configured_range_is_the_one_converted_with(make_sim, make_ptz):
    sim = make_sim("visca-ip")
    cam = make_ptz(sim.url, pan_min=-1000, pan_max=1000, tilt_min=-200, tilt_max=600, zoom_max=0x7AC0)
    cam.move_to(0.5, 0.0, zoom=0.5)
    assert (sim.pan, sim.tilt, sim.zoom) == (500, 200, 0x3D60)
    cam.move_by(-0.25, 0.5, speed=1.0)
    assert (sim.pan, sim.tilt) == (250, 400)
    cam.zoom_to(0.0)
    assert sim.zoom == 0


def test_positions_beyond_the_range_are_refused_before_sending(make_sim, make_ptz):
    sim = make_sim("visca-ip")
    cam = make_ptz(sim.url)
    before = dict(sim.counts)
    for bad in ({"pan": 1.5, "tilt": 0}, {"pan": 0, "tilt": -2}, {"pan": 0, "tilt": 0, "zoom": 1.2},
                {"pan": 0, "tilt": 0, "speed": 0}, {"pan": True, "tilt": 0}):
        with pytest.raises(ConfigError):
            cam.move_to(**bad)
    assert dict(sim.counts) == before


def test_a_reading_outside_the_configured_range_is_clamped_to_the_interface(make_sim, make_ptz, caplog):
    sim = make_sim("visca-ip")
    cam = make_ptz(sim.url, pan_min=-1000, pan_max=1000)
    sim.camera.presets[5] = (2000, 0, 0x7000)          # moved there with the camera's own remote
    cam.recall(5)
    assert cam.position() == Position(1.0, cam.from_native(0, 0).tilt, 1.0)
    assert "outside its configured range" in caplog.text


def test_a_camera_initialising_after_power_on_is_not_ready(make_sim, make_ptz):
    sim = make_sim("visca-ip", boot_s=30.0)
    cam = make_ptz(sim.url)
    with pytest.raises(DeviceNotReady) as info:
        cam.power()
    assert info.value.code == 0x41
    sim.camera.boot_until = 0                           # initialised
    assert cam.power() == "on"


def test_speeds_are_fractions_of_the_fastest(make_sim, make_ptz):
    sim = make_sim("visca-ip", pan_speed=1000.0, tilt_speed=1000.0)
    cam = make_ptz(sim.url)
    # wait=False returns on the ACK: the camera starts the move just after, so wait for it
    cam.move_to(0.1, 0.1, speed=1.0, wait=False)
    until(lambda: (sim.camera.pan.speed, sim.camera.tilt.speed) == (1000.0, 1000.0))     # VISCA 18h and 17h
    cam.stop()
    cam.move_to(0.0, 0.0, speed=0.01, wait=False)                                 # the slowest is still a move
    until(lambda: (sim.camera.pan.speed, sim.camera.tilt.speed) == (1000.0 / 0x18, 1000.0 / 0x17))
    cam.stop()


def test_bad_ranges_are_config_errors_before_anything_opens():
    with pytest.raises(ConfigError, match="pan_min 100 and pan_max 50"):
        check_ptz("visca-ip://127.0.0.1:9", {"pan_min": 100, "pan_max": 50})
    with pytest.raises(ConfigError, match="zoom_max"):
        check_ptz("visca-ip://127.0.0.1:9", {"zoom_max": 0})
    with pytest.raises(ConfigError, match="names no port"):
        check_ptz("visca-tcp://127.0.0.1")
    with pytest.raises(ConfigError, match="unknown camera URL scheme 'rtsp'"):
        check_ptz("rtsp://127.0.0.1/stream")
