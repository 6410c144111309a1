"""Transports in the round: many IP cameras on one local socket, serial daisy chains."""
import gc
import threading

import pytest

from vksroom.drivers.errors import DeviceError, TransportClosed, TransportError
from vksroom.drivers.visca import open_camera
from vksroom.drivers.visca.links import UdpHub


def test_many_ip_cameras_share_one_local_socket(make_sim, make_cam):
    sims = [make_sim("visca-ip") for _ in range(4)]
    cams = [make_cam(sim.url) for sim in sims]
    hubs = {cam.link.transport._hub for cam in cams}
    assert len(hubs) == 1                        # one local UDP socket for all of them
    for i, cam in enumerate(cams):
        cam.move_absolute(100 * (i + 1), -10 * i)
    # each camera got its own command and each answer went to the right camera object
    assert [(s.pan, s.tilt) for s in sims] == [(100, 0), (200, -10), (300, -20), (400, -30)]
    assert [c.position() for c in cams] == [(100, 0), (200, -10), (300, -20), (400, -30)]
    # one camera powering off does not disturb the others on the shared socket
    sims[1].stop()
    with pytest.raises(DeviceError):
        open_camera(sims[1].url, ack_timeout=0.02, retries=1)
    assert cams[2].position() == (300, -20)


def test_closed_camera_is_not_reopened_behind_its_back(make_sim, make_cam):
    # A poller that asks a camera something just after close() used to reopen the link
    # silently: the closed camera held its peer on the shared socket for good, and a later
    # camera (or a later simulator on a reused port) was refused.
    sim = make_sim("visca-ip")
    cam = make_cam(sim.url)
    cam.close()
    with pytest.raises(TransportClosed, match="closed"):
        cam.power()
    other = make_cam(sim.url)
    assert other.power() == "on"
    other.close()
    assert cam.open().power() == "on"           # an explicit open() brings it back


def test_close_while_another_thread_asks(make_sim, make_cam):
    sim = make_sim("visca-ip")
    for _ in range(20):
        cam = make_cam(sim.url)
        go = threading.Event()

        def poll():
            go.set()
            for _ in range(200):
                try:
                    cam.position()
                except DeviceError:
                    return
        t = threading.Thread(target=poll)
        t.start()
        go.wait()
        cam.close()
        t.join(5)
        assert not t.is_alive()
    assert make_cam(sim.url).power() == "on"    # no closed camera is left holding the peer


def test_forgotten_camera_does_not_block_its_address(make_sim, make_cam):
    sim = make_sim("visca-ip")
    cam = open_camera(sim.url)      # never closed: dropped
    del cam
    gc.collect()
    assert make_cam(sim.url).power() == "on"


def test_two_open_cameras_on_one_peer_say_what_to_do(make_sim, make_cam):
    sim = make_sim("visca-ip")
    make_cam(sim.url)
    with pytest.raises(TransportError, match=r"close\(\)"):
        open_camera(sim.url)


def test_fixed_local_port(make_sim, make_cam):
    sim = make_sim("visca-ip")
    probe = UdpHub.get(0)       # find a free port the honest way: bind one, note it, free it
    port = probe.port
    probe.release()
    cam = make_cam(sim.url, local_port=port)
    assert cam.link.transport._hub.port == port
    assert cam.power() == "on"


def test_dedicated_socket_when_asked(make_sim, make_cam):
    sim = make_sim("visca-ip")
    cam = make_cam(sim.url, shared_socket=False)
    assert cam.power() == "on"


def test_serial_daisy_chain_of_three(make_sim, make_cam):
    sim = make_sim("visca-serial", chain=3)
    cams = [make_cam(sim.url_for(a)) for a in (1, 2, 3)]
    assert cams[0].link.bus is cams[2].link.bus and cams[0].link.bus.count == 3
    for i, cam in enumerate(cams):
        cam.move_absolute(50 * (i + 1), 0)
    assert [c.positions()[0] for c in sim.cameras] == [50, 100, 150]
    assert [c.position() for c in cams] == [(50, 0), (100, 0), (150, 0)]
    cams[1].standby()
    assert [c.power() for c in cams] == ["on", "standby", "on"]


def test_serial_address_beyond_the_chain_is_named(make_sim):
    sim = make_sim("visca-serial", chain=2)
    with pytest.raises(DeviceError, match="address 5 is not on the chain.*found 2"):
        open_camera(sim.url_for(5))


@pytest.mark.timeout(20)
def test_serial_chain_member_restart_re_addresses_the_chain(make_sim, make_cam):
    sim = make_sim("visca-serial", chain=2, boot_s=0.0)
    a, b = make_cam(sim.url_for(1)), make_cam(sim.url_for(2))
    sim.restart()                                  # Network Change from both
    assert b.power() == "on" and a.power() == "on"
    assert sim.cameras[1].counts["address_set"] == 2


@pytest.mark.timeout(30)
def test_many_cameras_on_one_socket_at_once_each_get_their_own_answers(make_sim, make_cam):
    """Threads polling their cameras together on the shared socket: whoever reads the socket
    files the others' answers; nobody gets another camera's answer, nobody starves (one
    camera answers slowly, so the others' answers arrive while its thread reads)."""
    import threading
    sims = [make_sim("visca-ip", delay=0.02 if i == 0 else 0.0) for i in range(4)]
    cams = [make_cam(sim.url, ack_timeout=0.5) for sim in sims]
    for i, cam in enumerate(cams):
        cam.move_absolute(10 * (i + 1), i)
    wrong, errors = [], []

    def poll(i: int, cam) -> None:
        try:
            for _ in range(10 if i == 0 else 150):
                got = cam.position()
                if got != (10 * (i + 1), i):
                    wrong.append((i, got))
        except Exception as exc:     # reported below, not lost in the thread
            errors.append((i, exc))
    threads = [threading.Thread(target=poll, args=(i, cam)) for i, cam in enumerate(cams)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=20)
    assert not any(th.is_alive() for th in threads)
    assert errors == [] and wrong == []
    assert sum(s.camera.counts["inquiry"] for s in sims[1:]) >= 3 * 150
