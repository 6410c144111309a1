"""The simulated camera's MJPEG stream read by cv2.VideoCapture over loopback, end to end."""
import json
import subprocess
import sys
import threading
import time
import urllib.request

import cv2
import pytest

from vksroom.drivers.video.capture import LIVE, NO_SIGNAL, Monitor, VideoSource, read_file_frames
from vksroom.drivers.video.quality import Analyzer, Reference
from vksroom.hil.scene import JUDGE_VIEW, OVERVIEW, PLAINTIFF_VIEW, Courtroom
from vksroom.hil.video_stream import VideoStreamServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def room():
    return Courtroom()


@pytest.fixture()
def camera(room):
    """A camera whose aim the test moves, as the VISCA simulator will."""
    aim = {"view": JUDGE_VIEW}
    srv = VideoStreamServer(room, view_fn=lambda: aim["view"], size=(640, 360), fps=15).start()
    srv.aim = aim
    yield srv
    srv.stop()


def grab(src, n=1):
    f = None
    for _ in range(n):
        f = src.grab(5)
    return f


def test_cv2_reads_the_mjpeg_stream(camera):
    cap = cv2.VideoCapture(camera.url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000,
                                                        cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000])
    try:
        assert cap.isOpened()
        ok, img = cap.read()
        assert ok and img.shape == (360, 640, 3)
    finally:
        cap.release()


def test_judge_preset_lands_on_the_judges_bench(camera, room):
    ref_judge = Reference.from_image(room.view(*JUDGE_VIEW, size=(640, 360), t=0.0), "judge")
    with VideoSource(camera.url, read_timeout_s=3) as src:
        a = Analyzer([ref_judge])
        v = a.analyze(grab(src, 2).image)
        assert v.ok, v.to_dict()
        camera.aim["view"] = PLAINTIFF_VIEW           # preset recall went to the wrong place
        f = src.grab(5)
        f = src.wait_frame(f.seq, 5)                  # a frame rendered after the move
        v = Analyzer([ref_judge]).analyze(f.image)
        assert "drift" in v.faults and v.checks["drift"].score >= 0.5


@pytest.mark.parametrize("fault,check", [("blur", "blur"), ("dark", "dark"), ("blue", "black"),
                                         ("obstruction", "obstruction"), ("wrong_view", "drift"),
                                         ("cast", "cast"), ("noise", "noise")])
def test_injected_faults_reach_the_analyzer(camera, room, fault, check):
    refs = [Reference.from_image(room.view(*JUDGE_VIEW, size=(640, 360), t=0.0))]
    with VideoSource(camera.url, read_timeout_s=3) as src:
        assert Analyzer(refs).analyze(grab(src).image).ok
        camera.set_fault(fault, 2)
        seq = src.grab(5).seq
        v = Analyzer(refs).analyze(src.wait_frame(seq + 1, 5).image)
        assert check in v.faults, v.to_dict()


def test_frozen_stream_is_frozen_and_live_stream_is_not(camera):
    verdicts, cond = [], threading.Condition()

    def seen(v, f):
        with cond:
            verdicts.append(v)
            cond.notify_all()

    with VideoSource(camera.url, read_timeout_s=3) as src:
        mon = Monitor(src, Analyzer(), rate_hz=4, on_verdict=seen).start()
        try:
            with cond:                    # 3 s of a live room with sensor noise: never frozen
                assert cond.wait_for(lambda: len(verdicts) >= 12, 10)
                assert all(v.checks["frozen"].ok for v in verdicts), [v.checks["frozen"] for v in verdicts]
            camera.set_fault("frozen")
            with cond:
                assert cond.wait_for(lambda: not verdicts[-1].checks["frozen"].ok, 10)
                assert verdicts[-1].checks["frozen"].score >= 2.0
        finally:
            mon.stop()


def test_a_calm_monitor_judges_good_pictures_slowly_and_a_fault_at_full_rate(camera):
    """Good pictures are judged at the calm pace (cheap during a hearing); from the first fault
    on at the full rate, so it is confirmed (raise_after frames) as quickly as before."""
    verdicts, cond = [], threading.Condition()

    def seen(v, f):
        with cond:
            verdicts.append((v, f.t))
            cond.notify_all()

    with VideoSource(camera.url, read_timeout_s=3) as src:
        mon = Monitor(src, Analyzer(), rate_hz=10, calm_hz=2.5, on_verdict=seen).start()
        try:
            with cond:
                assert cond.wait_for(lambda: len(verdicts) >= 4, 10)
                calm = list(verdicts)
            assert all(v.ok for v, _ in calm), [v.faults for v, _ in calm]
            gaps = [b - a for (_, a), (_, b) in zip(calm, calm[1:])]
            assert min(gaps) >= 0.3, gaps        # 0.4 s apart (less a frame of 15 fps), not 0.1
            camera.set_fault("black")
            with cond:
                assert cond.wait_for(lambda: not verdicts[-1][0].ok, 10)
            assert mon.period == pytest.approx(0.1)
            with cond:
                assert cond.wait_for(lambda: "black" in mon.alarms, 10)   # three faulty frames in a row
        finally:
            mon.stop()


def test_stalled_stream_goes_no_signal_then_recovers(camera):
    with VideoSource(camera.url, no_signal_after_s=0.8, read_timeout_s=2) as src:
        assert src.wait_state(LIVE, 5)
        camera.set_fault("stall")
        assert src.wait_state(NO_SIGNAL, 5)
        camera.set_fault(None)
        assert src.wait_state(LIVE, 10)


def test_source_reconnects_after_the_server_restarts(room):
    srv = VideoStreamServer(room, size=(320, 180), fps=15).start()
    port = srv.port
    with VideoSource(srv.url, no_signal_after_s=0.8, reconnect_s=0.2, read_timeout_s=1, open_timeout_s=1) as src:
        first = src.grab(5)
        srv.stop()
        assert src.wait_state(NO_SIGNAL, 5)
        srv = VideoStreamServer(room, size=(320, 180), fps=15, port=port).start()
        try:
            assert src.wait_state(LIVE, 15)
            assert src.latest().seq > first.seq and src.reconnects >= 1
        finally:
            srv.stop()


def test_unreachable_source_reports_no_signal_with_a_reason():
    with VideoSource("http://127.0.0.1:9/video.mjpg", no_signal_after_s=0.5, reconnect_s=0.2,
                     open_timeout_s=1, read_timeout_s=1) as src:
        assert src.wait_state(NO_SIGNAL, 5)
        with pytest.raises(Exception, match="no picture"):
            src.grab(0.5)
        assert "cannot open" in src.error


def test_file_source_and_fault_endpoint(camera, tmp_path):
    with urllib.request.urlopen(camera.url.replace("video.mjpg", "fault?name=dark&level=3"), timeout=5) as r:
        assert json.load(r)["fault"] == "dark"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(camera.url.replace("video.mjpg", "fault?name=melted"), timeout=5)
    with urllib.request.urlopen(camera.url.replace("video.mjpg", "snapshot.jpg"), timeout=5) as r:
        (tmp_path / "snap.jpg").write_bytes(r.read())
    [(img, _, _)] = read_file_frames(str(tmp_path / "snap.jpg"))
    assert img.shape == (360, 640, 3)


def test_runs_alone_and_says_how():
    out = subprocess.run([sys.executable, "-m", "vksroom.hil.video_stream", "--help"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0 and "--fault" in out.stdout


def test_h264_frames_carry_the_decoders_frame_type_and_group(tmp_path):
    """What the analyzer needs to compare like with like: which frame is a keyframe and
    how many keyframes came before, counting frames read but not judged."""
    path = str(tmp_path / "camera.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "3",
                    "-c:v", "libx264", "-g", "25", "-bf", "0", "-pix_fmt", "yuv420p", path], check=True, timeout=60)
    frames = read_file_frames(path, 2.0, coding=True)
    assert [(key, gop) for *_, key, gop in frames] == [(True, 1), (False, 1), (True, 2), (False, 2),
                                                        (True, 3), (False, 3)]
    with VideoSource(path, max_fps=0) as src:
        f = src.wait_frame(0, timeout=10)        # the reader's first frame, or one soon after
        assert f is not None
        assert (f.keyframe, f.gop) == ((f.seq - 1) % 25 == 0, 1 + (f.seq - 1) // 25)
