"""Faults on the wire and in the camera, each seen as the driver error a caller acts on:
a slow camera, a cut connection, junk, a pulled cable, a power cycle, a camera booting."""
import socket

import pytest

from vksroom.drivers.errors import (DeviceError, DeviceNotReady, DeviceRejected, DeviceTimeout, ProtocolError,
                                    TransportClosed, TransportError)

from support.onvifkit import when_ready


def test_a_camera_slower_than_the_timeout_is_a_timeout_and_recovers(make_sim, make_cam):
    sim = make_sim()
    cam = make_cam(sim.url, timeout_s=0.3)
    sim.delay = 0.6
    with pytest.raises(DeviceTimeout, match="no answer within 0.3 s"):
        cam.position()
    sim.delay = 0.0
    assert cam.power() == "on"


def test_a_connection_cut_unanswered_is_a_transport_error(sim_cam):
    sim, cam = sim_cam
    sim.drop = 1.0
    with pytest.raises(TransportError, match="closed the connection"):
        cam.position()
    # the request went out twice: once on the kept connection, once on a new one
    assert sim.wire["dropped"] == 2
    sim.drop = 0.0
    assert cam.power() == "on"


def test_a_relative_move_is_never_sent_twice(sim_cam):
    sim, cam = sim_cam
    sim.drop = 1.0
    with pytest.raises(TransportError):
        cam.move_by(0.1, 0.0)
    assert sim.wire["dropped"] == 1        # sent again it might move twice as far
    sim.drop = 0.0


def test_junk_answers_are_protocol_errors_and_the_link_resynchronises(make_sim, make_cam):
    sim = make_sim(seed=3)
    cam = make_cam(sim.url)
    sim.garbage = 1.0
    kinds = set()
    for _ in range(30):
        with pytest.raises(DeviceError) as info:
            cam.position()
        assert isinstance(info.value, (ProtocolError, TransportError)), info.value
        kinds.add(type(info.value))
    assert ProtocolError in kinds
    assert sim.wire["garbage_sent"] >= 30
    sim.garbage = 0.0
    cam.move_to(0.4, 0.0)
    assert abs(sim.positions()[0] - 0.4) < 1e-3


def test_a_pulled_cable_fails_fast_and_the_camera_is_back_when_plugged(sim_cam):
    sim, cam = sim_cam
    cam.move_to(-0.5, 0.0, speed=0.1, wait=False)      # under way when the cable goes
    sim.unplug()
    with pytest.raises(TransportError, match="refused"):
        cam.position()
    sim.replug()
    p = cam.position()                                 # no reopening needed, no boot
    assert -0.5 <= p.pan < 0.0
    cam.stop()


def test_a_camera_booting_refuses_as_not_ready_until_it_is_up(make_sim, make_cam):
    sim = make_sim(boot_s=30.0)
    with pytest.raises(DeviceNotReady) as info:
        make_cam(sim.url)                              # opening while it boots
    assert info.value.code == 503 and isinstance(info.value, DeviceRejected)
    sim.finish_boot()
    cam = make_cam(sim.url)
    cam.move_to(0.6, 0.0)
    sim.power_cycle()
    with pytest.raises(DeviceNotReady):
        cam.power()
    assert sim.refused["GetStatus"] == 1
    sim.finish_boot()
    assert cam.power() == "on"                         # the same camera object, not reopened
    assert cam.position().pan == 0.0                   # it initialised to home


def test_a_not_ready_fault_while_booting_is_not_ready(make_sim, make_cam):
    sim = make_sim(boot_s=30.0, boot_reply="fault")
    with pytest.raises(DeviceNotReady, match="initializing") as info:
        make_cam(sim.url)
    assert info.value.code == "ter:Action"
    sim.finish_boot()
    assert make_cam(sim.url).power() == "on"


def test_a_boot_ends_by_itself(make_sim, make_cam):
    sim = make_sim(boot_s=0.3)
    cam, refusals = when_ready(lambda: make_cam(sim.url))
    assert cam.power() == "on" and refusals == sim.refused["GetSystemDateAndTime"]


def test_nothing_listening_is_a_transport_error():
    from vksroom.drivers.camera import open_ptz

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]          # a port nobody listens on (bound, not listening)
        with pytest.raises(TransportError, match="refused"):
            open_ptz(f"onvif://admin:x@127.0.0.1:{port}/onvif/device_service", timeout_s=1.0)


def test_a_closed_camera_says_so_and_opens_again(sim_cam):
    sim, cam = sim_cam
    cam.close()
    with pytest.raises(TransportClosed):
        cam.position()
    cam.open()
    assert cam.power() == "on"


def test_a_wait_is_cut_short_by_close(sim_cam):
    import threading

    sim, cam = sim_cam
    errors = []

    def long_move():
        try:
            cam.move_to(-1.0, 0.0, speed=0.05)        # 5 s
        except DeviceError as exc:
            errors.append(exc)
    t = threading.Thread(target=long_move)
    t.start()
    with sim.model.changed:
        assert sim.model.changed.wait_for(lambda: sim.model.move_status()[0] == "MOVING", 2)
    cam.close()
    t.join(2)
    assert not t.is_alive() and isinstance(errors[0], TransportClosed)


def test_a_move_that_never_ends_is_a_timeout(make_sim, make_cam):
    sim = make_sim(pan_speed=0.05, tilt_speed=0.05)
    cam = make_cam(sim.url, move_timeout_s=0.5)
    with pytest.raises(DeviceTimeout, match="not ended within 0.5 s"):
        cam.move_to(1.0, 0.0)
