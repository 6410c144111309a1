"""Interoperability: the `visca-over-ip` package from PyPI (a client we did not write)
drives our simulator and gets correct answers."""
import socket

import pytest

visca_over_ip = pytest.importorskip("visca_over_ip")


@pytest.fixture
def client(make_sim):
    sim = make_sim("visca-ip", pan_speed=5000.0, tilt_speed=5000.0)
    cam = visca_over_ip.Camera("127.0.0.1", sim.port)   # RESET + IF_Clear on construction
    # visca-over-ip binds its inquiry socket to the camera's own port number, assuming
    # the camera is another host. On one loopback host that port is the simulator's, so
    # its inquiries get an ephemeral socket instead; every byte on the wire is still theirs.
    cam._inq_sock.close()
    cam._inq_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    cam._inq_sock.bind(("127.0.0.1", 0))
    cam._inq_sock.settimeout(0.1)
    yield sim, cam
    cam.close_connection()


def wait_for(predicate, timeout=3.0):
    import threading
    import time
    deadline = time.monotonic() + timeout
    ev = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        ev.wait(0.01)
    return True


def test_reset_and_if_clear_on_connect(client):
    sim, _ = client
    # (their client gives up waiting after 0.1 s, so the count may land just after)
    assert wait_for(lambda: sim.counts["reset"] == 1 and sim.counts["if_clear"] == 1)


def test_power(client):
    sim, cam = client
    cam.set_power(False)
    assert sim.power == "standby"
    assert cam._send_command("04 00", query=True) == bytes.fromhex("5003")
    cam.set_power(True)
    assert wait_for(lambda: sim.power == "on")
    assert cam._send_command("04 00", query=True) == bytes.fromhex("5002")


def test_pan_tilt_absolute_relative_and_position_inquiry(client):
    sim, cam = client
    cam.pantilt(24, 20, 500, -200)
    assert wait_for(lambda: (sim.pan, sim.tilt) == (500, -200))
    assert cam.get_pantilt_position() == (500, -200)
    cam.pantilt(24, 20, -100, 50, relative=True)
    assert wait_for(lambda: cam.get_pantilt_position() == (400, -150))
    cam.pantilt(-10, 0)          # drive left ...
    assert wait_for(lambda: sim.pan < 400)
    cam.pantilt(0, 0)            # ... and stop (speed bytes 00: accepted by a camera without that quirk)
    pan = cam.get_pantilt_position()[0]
    assert cam.get_pantilt_position()[0] == pan == sim.pan
    cam.pantilt_home()
    assert wait_for(lambda: cam.get_pantilt_position() == (0, 0))


def test_presets_and_zoom(client):
    sim, cam = client
    cam.pantilt(24, 20, -700, 300)
    cam.zoom_to(0.5)
    assert wait_for(lambda: (sim.pan, sim.tilt, sim.zoom) == (-700, 300, 0x2000))
    assert cam.get_zoom_position() == 0x2000
    cam.save_preset(7)
    cam.pantilt_home()
    cam.zoom_to(0)
    assert wait_for(lambda: cam.get_pantilt_position() == (0, 0))
    cam.recall_preset(7)
    assert wait_for(lambda: cam.get_pantilt_position() == (-700, 300))
    assert cam.get_zoom_position() == 0x2000
    assert sim.counts["preset_set"] == 1 and sim.counts["preset_recall"] == 1


def test_their_error_handling_sees_our_errors(client):
    sim, cam = client
    with pytest.raises(visca_over_ip.exceptions.ViscaException) as info:
        cam.recall_preset(200)   # the simulated camera has 16 presets
    assert info.value.status_code == 0x02
    assert cam.get_focus_mode() == "auto"
