"""The camera simulator as a product: runnable alone, realistic timing, state that persists."""
import signal
import subprocess
import sys
import time

import pytest

from vksroom.drivers.errors import DeviceError, DeviceRejected
from vksroom.hil.visca_camera import CameraSimulator

from support.viscakit import until


def test_help():
    out = subprocess.run([sys.executable, "-m", "vksroom.hil.visca_camera", "--help"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "--quirk" in out.stdout and "SIGHUP" in out.stdout


@pytest.mark.timeout(30)
def test_runs_alone_and_power_cycles_on_sighup(make_cam):
    proc = subprocess.Popen([sys.executable, "-m", "vksroom.hil.visca_camera", "--transport", "visca-tcp",
                             "--port", "0", "--boot-s", "0.3", "--ack-delay", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("VISCA camera simulator at visca-tcp://127.0.0.1:")
        cam = until(lambda: make_cam(line.split()[-1]))        # answers 41 while booting
        assert cam.power() == "on"
        proc.send_signal(signal.SIGHUP)
        seen_down = []

        def back_after_going_down():
            try:
                return cam.power() == "on" and seen_down
            except DeviceError:
                seen_down.append(True)
                raise
        until(back_after_going_down, timeout=10)
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.stdout.close()


def test_booting_camera_answers_error_41_even_to_inquiries(make_sim, make_cam):
    sim = make_sim("visca-ip", boot_s=0.0)
    cam = make_cam(sim.url)
    sim.camera.o.boot_s = 0.5
    sim.restart()
    with pytest.raises(DeviceRejected) as info:
        cam.power()
    assert info.value.code == 0x41
    assert until(cam.power, timeout=3) == "on"


def test_moves_take_time_and_the_position_travels(make_sim, make_cam):
    sim = make_sim("visca-ip", pan_speed=1400.0, tilt_speed=1200.0)
    cam = make_cam(sim.url)
    start = time.monotonic()
    cam.move_absolute(700, 0, speed=0x18, wait=False)      # 0.5 s at top speed
    seen = []
    while not seen or seen[-1] < 700:
        seen.append(cam.position()[0])
        assert time.monotonic() - start < 3
    assert time.monotonic() - start >= 0.45
    assert any(0 < p < 700 for p in seen)                   # seen on the way


def test_presets_persist_across_restart_only_with_a_state_file(make_sim, make_cam, tmp_path):
    for state_file, kept in ((str(tmp_path / "cam.json"), True), (None, False)):
        sim = make_sim("visca-ip", state_file=state_file)
        cam = make_cam(sim.url)
        cam.move_absolute(-300, 200)
        cam.store(5)
        sim.close()
        again = make_sim("visca-ip", state_file=state_file)
        assert (5 in again.camera.presets) is kept
        if kept:
            cam2 = make_cam(again.url)
            cam2.recall(5)
            assert cam2.position() == (-300, 200)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="unknown quirk"):
        CameraSimulator(bogus=True)
    with pytest.raises(ValueError, match="loss"):
        CameraSimulator(loss=1.5)
    with pytest.raises(ValueError, match="chain"):
        CameraSimulator(transport="visca-ip", chain=3)


def test_serial_wire_timing_at_9600_baud(make_sim, make_cam):
    sim = make_sim("visca-serial", wire_timing=True, baud=9600)
    cam = make_cam(sim.url)
    start = time.monotonic()
    for _ in range(5):
        cam.position()                        # 11-byte answer: 11.5 ms at 9600 baud
    assert time.monotonic() - start >= 5 * 0.0114


def test_booting_camera_refuses_commands_counts_them_apart_and_refuses_their_resends(make_sim):
    """Over the wire, as Sony describes: a command sent while the camera boots is answered
    41 and not run; a resend of it (same sequence number) gets the same error again, not
    "sequence wrong" (that would say it ran); once booted a new message runs, and its
    resend is answered "sequence wrong"."""
    import socket
    import struct

    sim = make_sim("visca-ip", boot_s=0.0)
    sim.camera.o.boot_s = 0.5
    sim.restart()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    recall = bytes.fromhex("8101043F0203FF")

    def exchange(seq, replies):
        sock.sendto(struct.pack(">HHI", 0x0100, len(recall), seq) + recall, ("127.0.0.1", sim.port))
        return [sock.recv(64)[8:].hex() for _ in range(replies)]
    try:
        assert sim.power == "booting"
        assert exchange(5, 1) == ["906141ff"]
        assert exchange(5, 1) == ["906141ff"]          # the resend: refused again
        assert sim.counts["preset_recall"] == 0 and sim.refused["preset_recall"] == 1
        until(lambda: sim.power == "on", timeout=3)
        assert exchange(6, 2) == ["9041ff", "9051ff"]
        assert exchange(6, 1) == ["0f01"]              # the resend of what ran
        assert sim.counts["preset_recall"] == 1 and sim.wire["resends_seen"] == 2
    finally:
        sock.close()


def test_a_camera_may_answer_inquiries_while_it_refuses_commands(make_sim, make_cam):
    sim = make_sim("visca-ip", boot_s=0.0, boot_answers_inquiries=True)
    cam = make_cam(sim.url, wait_41_s=0)
    sim.camera.o.boot_s = 5.0
    sim.restart()
    assert sim.power == "booting" and cam.power() == "on"
    with pytest.raises(DeviceRejected, match="VISCA error 41"):
        cam.home()
    assert sim.refused["home"] == 1 and sim.counts["home"] == 0


def test_in_freeze_the_camera_keeps_sending_the_picture_it_held(make_sim, make_cam):
    """CAM_Freeze on: the video goes on (frames keep coming) but shows one picture, wherever
    the camera turns; off, the picture follows the camera again."""
    from vksroom.hil.scene import JUDGE_VIEW
    from vksroom.hil.video_stream import VideoStreamServer

    sim = make_sim("visca-ip")
    cam = make_cam(sim.url)
    with VideoStreamServer(view_fn=lambda: (sim.pan, sim.tilt, sim.zoom), frozen_fn=lambda: sim.frozen,
                           size=(320, 180), fps=20) as video:
        def next_frame(after):
            seq, jpeg = video._next_jpeg(after, timeout=2.0)
            assert seq > after, "the stream stopped"
            return seq, jpeg
        seq, _ = next_frame(0)
        cam.freeze(True)
        seq, held = next_frame(next_frame(seq)[0])           # a frame made after freeze went on
        cam.move_absolute(*JUDGE_VIEW[:2], speed=0x18)
        cam.zoom_to(JUDGE_VIEW[2])
        for _ in range(3):
            seq, jpeg = next_frame(seq)
            assert jpeg == held                              # the same picture, byte for byte
        cam.freeze(False)
        seq, _ = next_frame(seq)
        assert next_frame(seq)[1] != held                    # live again: the judge's view
