"""Our driver against our simulator with packet loss, faults and each real-camera quirk:
every command runs exactly once (the simulator counts), none is lost."""
import pytest

from vksroom.drivers.errors import DeviceRejected, DeviceTimeout

STEPS = [(3, -2), (-1, 4), (2, 1), (-4, -3)]     # sums to (0, 0) every 4 moves


def nudge(cam, n, wait=False):
    pan = tilt = 0
    for i in range(n):
        dp, dt = STEPS[i % 4]
        cam.move_relative(dp, dt, speed=0x18, wait=wait)
        pan, tilt = pan + dp, tilt + dt
    return pan, tilt


def expect(sim, cam, n, pan, tilt, start=(0, 0)):
    assert sim.counts["pt_relative"] == n
    # moves sent without waiting may still be running: their end is what is checked
    assert sim.wait_still(), "the camera had not ended its moves 5 s after the last was sent"
    assert cam.position() == (start[0] + pan, start[1] + tilt) == (sim.pan, sim.tilt)


@pytest.mark.timeout(60)
def test_1000_relative_moves_with_20_percent_loss_run_exactly_once(make_sim, make_cam):
    sim = make_sim("visca-ip", loss=0.2, seed=7)
    cam = make_cam(sim.url, ack_timeout=0.01, retries=12)
    cam.move_absolute(100, 100)
    pan, tilt = nudge(cam, 1001)               # ends off the (0, 0) cycle: a lost move would show
    expect(sim, cam, 1001, pan, tilt, start=(100, 100))
    # the loss was real, and resends were recognised by the camera instead of re-run
    assert sim.wire["lost_in"] > 150 and sim.wire["lost_out"] > 150
    assert sim.wire["resends_seen"] > 20
    assert cam.engine.stats["resent"] > 200


@pytest.mark.timeout(60)
def test_waiting_for_completion_survives_lost_completions(make_sim, make_cam):
    sim = make_sim("visca-ip", loss=0.2, drop_completion=0.3, seed=3)
    cam = make_cam(sim.url, ack_timeout=0.01, retries=12, completion_probe=0.03, completion_grace=0.02)
    pan, tilt = nudge(cam, 101, wait=True)
    expect(sim, cam, 101, pan, tilt)
    assert sim.wire["dropped_completion"] > 5 and cam.engine.stats["probes"] > 5


@pytest.mark.timeout(30)
@pytest.mark.parametrize("transport", ["visca-ip", "visca-tcp", "visca-serial"])
def test_garbage_on_the_wire_is_skipped(make_sim, make_cam, transport):
    sim = make_sim(transport, garbage=0.3, seed=11)
    cam = make_cam(sim.url, ack_timeout=0.05)
    pan, tilt = nudge(cam, 200, wait=True)
    expect(sim, cam, 200, pan, tilt)
    assert sim.wire["garbage_sent"] > 30 and cam.engine.stats["garbage"] > 30


def test_raw_udp_with_loss_refuses_to_guess(make_sim, make_cam):
    """Raw VISCA has no sequence numbers: a lost ACK and a lost command look the same, so a
    relative move is never resent (it could run twice); it fails plainly instead."""
    sim = make_sim("visca-udp", loss=0.3, seed=5)
    cam = make_cam(sim.url, ack_timeout=0.01, retries=12)
    done = failed = 0
    for _ in range(100):
        try:
            cam.move_relative(1, 0, wait=False)
            done += 1
        except DeviceTimeout as exc:
            assert "would run twice" in str(exc)
            failed += 1
    assert failed > 10
    # never more runs than we were told happened plus those whose ACK was lost
    assert done <= sim.counts["pt_relative"] <= done + failed
    # idempotent commands are resent and get through
    cam.move_absolute(0, 0)
    # without sequence numbers the Completion of a move it superseded (whose ACK was lost)
    # can pass for this one's: what counts is where the camera ends
    assert sim.wait_still()
    assert cam.position() == (0, 0)


# --- quirks ------------------------------------------------------------------------------

N = 300


@pytest.mark.timeout(30)
@pytest.mark.parametrize("quirk,settings", [
    ("no_ack", {}),
    ("one_socket", {}),
    ("reply_header_a0", {}),
    ("stop_needs_speed", {}),
    ("strict_types", {}),
    ("seq_ignore", {"sequence": "zero"}),
    ("seq_reply_one", {"match_sequence": False, "sequence_min": 1, "sequence_max": 3}),
])
def test_each_quirk_with_its_setting(make_sim, make_cam, quirk, settings):
    sim = make_sim("visca-ip", **{quirk: True})
    cam = make_cam(sim.url, ack_timeout=0.05, **settings)
    pan, tilt = nudge(cam, N, wait=True)
    pan2, tilt2 = nudge(cam, N, wait=False)
    expect(sim, cam, 2 * N, pan + pan2, tilt + tilt2)
    cam.drive("right", 1, 1)
    cam.stop()
    cam.recall(0)
    assert cam.power() == "on"
    assert sim.counts["rejected"] == 0


@pytest.mark.parametrize("transport", ["visca-ip", "visca-tcp"])
def test_no_ack_quirk_over_raw_and_ip(make_sim, make_cam, transport):
    sim = make_sim(transport, no_ack=True)
    cam = make_cam(sim.url)
    pan, tilt = nudge(cam, 50, wait=False)
    expect(sim, cam, 50, pan, tilt)


def test_stop_with_zero_speed_is_refused_by_such_a_camera(make_sim, make_cam):
    sim = make_sim("visca-ip", stop_needs_speed=True)
    cam = make_cam(sim.url)
    cam.stop()                                     # our Stop carries speed 01
    with pytest.raises(DeviceRejected, match="VISCA error 02"):
        cam.engine.command(bytes.fromhex("8101060100000303FF"), "stop with speed 00")


def test_error_41_on_another_socket_than_the_ack(make_sim, make_cam):
    sim = make_sim("visca-ip", error41_other_socket=True)
    cam = make_cam(sim.url)
    cam.standby()
    with pytest.raises(DeviceRejected, match="VISCA error 41"):
        cam.home()
    assert cam.power() == "standby"


def test_without_its_setting_a_reply_sequence_quirk_fails_plainly(make_sim, make_cam):
    sim = make_sim("visca-ip", seq_reply_one=True)
    cam = make_cam(sim.url, ack_timeout=0.03, retries=1, sequence_min=5)
    with pytest.raises(DeviceTimeout, match="no reply"):
        cam.power()


def test_buffer_full_is_retried(make_sim, make_cam):
    sim = make_sim("visca-ip", pan_speed=2000.0, tilt_speed=2000.0, zoom_speed=2000.0)
    cam = make_cam(sim.url, busy_backoff=0.01, busy_retries=200)
    cam.move_absolute(1000, 0, wait=False)         # socket 1 busy ~0.5 s
    cam.zoom_to(1000, wait=False)                  # socket 2 busy
    cam.focus("manual")                            # both busy: error 03, retried until one frees
    assert sim.counts["buffer_full"] >= 1 and sim.counts["focus"] == 1
    assert cam.focus_mode() == "manual"


@pytest.mark.timeout(30)
def test_late_replies_and_resends_run_once(make_sim, make_cam):
    """Replies slower than the ACK timeout: the driver resends (same sequence number),
    the camera answers 0F 01, the late ACK of the first copy is recognised as ours."""
    sim = make_sim("visca-ip", delay=0.03, loss=0.1, seed=2)
    cam = make_cam(sim.url, ack_timeout=0.02, retries=10, completion_probe=0.05, completion_grace=0.05)
    pan, tilt = nudge(cam, 60, wait=True)
    expect(sim, cam, 60, pan, tilt)
    assert sim.wire["resends_seen"] > 10
