"""Our own MJPEG-over-HTTP reader: real sockets on loopback, a real simulator and a
hand-written server for the shapes of stream real cameras send (no Content-Length, odd
boundaries, garbage, a dead peer)."""
import socket
import threading

import cv2
import numpy as np
import pytest

from vksroom.drivers.errors import ProtocolError
from vksroom.drivers.video import mjpeg
from vksroom.drivers.video.capture import LIVE, NO_SIGNAL, Monitor, VideoSource
from vksroom.drivers.video.quality import Analyzer
from vksroom.hil.scene import JUDGE_VIEW, Courtroom
from vksroom.hil.video_stream import VideoStreamServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def room():
    return Courtroom()


def jpeg_of(value: int, size=(320, 240)) -> bytes:
    img = np.full((size[1], size[0], 3), value, np.uint8)
    cv2.putText(img, str(value), (20, 120), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    return cv2.imencode(".jpg", img)[1].tobytes()


class RawServer:
    """One-connection-at-a-time TCP server that answers each client with ``script(conn)``."""

    def __init__(self, script):
        self.script = script
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/cam"
        self.requests = []
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                self.requests.append(conn.recv(4096))
                try:
                    self.script(conn)
                except OSError:
                    pass

    def close(self):
        self.done.set()
        self.sock.close()


@pytest.fixture()
def raw():
    servers = []

    def make(script):
        servers.append(RawServer(script))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


def test_simulator_stream_is_read_without_decoding_until_asked(room):
    with VideoStreamServer(room, size=(1280, 720), fps=20) as srv, VideoSource(srv.url) as src:
        f = src.grab(5)
        assert src.reading_with == "mjpeg" and f.jpeg[:2] == b"\xff\xd8"
        img, scale = f.for_analysis()
        assert img.shape == (360, 640, 3) and scale == 2.0     # half-size decode covers 640 px
        assert f.image.shape == (720, 1280, 3)                  # full decode when asked
        assert mjpeg.jpeg_size(f.jpeg) == (1280, 720)
        assert src.wait_frame(f.seq + 3, 5) is not None and src.parts >= f.seq + 3


def test_parts_without_length_odd_boundary_and_basic_auth(raw):
    frames = [jpeg_of(v) for v in (40, 90, 140, 190)]

    def script(conn):
        conn.sendall(b'HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary="--myb"\r\n\r\n')
        for data in frames:   # boundary given with its dashes, no Content-Length, odd spacing
            conn.sendall(b"--myb\r\nContent-Type: image/jpeg\r\n\r\n" + data[:100])
            conn.sendall(data[100:] + b"\r\n")
        conn.sendall(b"--myb--\r\n")

    srv = raw(script)
    stream = mjpeg.MjpegStream(srv.url.replace("http://", "http://tech:s%40fe@"), 2, 2).open()
    try:
        parts = stream.parts()
        assert [next(parts) for _ in frames] == frames
    finally:
        stream.close()
    assert b"Authorization: Basic dGVjaDpzQGZl" in srv.requests[0]     # tech:s@fe


def test_identical_parts_stall_the_part_counter_and_judge_frozen(raw):
    still = jpeg_of(100)
    stop = threading.Event()

    def script(conn):
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=b\r\n\r\n")
        for k in range(400):
            data = jpeg_of(k % 250) if k < 3 else still          # live, then the same bytes
            conn.sendall(b"--b\r\nContent-Length: %d\r\n\r\n" % len(data) + data + b"\r\n")
            if stop.wait(0.02):
                return

    srv = raw(script)
    verdicts, cond = [], threading.Condition()

    def seen(v, f):
        with cond:
            verdicts.append((v, f))
            cond.notify_all()

    with VideoSource(srv.url) as src:
        mon = Monitor(src, Analyzer(), rate_hz=10, on_verdict=seen).start()
        try:
            with cond:
                assert cond.wait_for(lambda: verdicts and not verdicts[-1][0].checks["frozen"].ok, 10)
            v, f = verdicts[-1]
            assert f.source_ts == 4.0          # 3 live parts, then one changed part, then repeats
        finally:
            mon.stop()
            stop.set()


@pytest.mark.parametrize("reply,error", [
    (b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>", "not an MJPEG stream"),
    (b"HTTP/1.0 401 Unauthorized\r\n\r\n", "HTTP 401"),
    (b"SSH-2.0-OpenSSH\r\n", "did not answer HTTP"),
])
def test_wrong_answers_give_a_reason_and_no_signal(raw, reply, error):
    srv = raw(lambda conn: conn.sendall(reply))
    with VideoSource(srv.url, reader="mjpeg", no_signal_after_s=0.3, reconnect_s=0.2, open_timeout_s=1,
                     read_timeout_s=1) as src:
        assert src.wait_state(NO_SIGNAL, 5)      # the first refused open came long before
        assert error in src.error


def test_garbage_in_the_stream_is_a_protocol_error_not_a_crash(raw):
    def script(conn):
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=b\r\n\r\n")
        conn.sendall(b"--b\r\nContent-Length: 99999999999\r\n\r\n")

    srv = raw(script)
    stream = mjpeg.MjpegStream(srv.url, 2, 2).open()
    with pytest.raises(ProtocolError, match="bad part length"):
        next(stream.parts())
    stream.close()


def test_non_multipart_http_falls_back_to_videocapture(room):
    with VideoStreamServer(room, size=(320, 180), fps=15) as srv:
        url = srv.url.replace("video.mjpg", "snapshot.jpg")
        with VideoSource(url, read_timeout_s=2, open_timeout_s=2) as src:
            f = src.grab(10)
            assert src.reader == "capture" and src.reading_with == "capture"
            assert f.image.shape == (180, 320, 3)


def test_stop_is_prompt_while_the_stream_is_stalled(room):
    with VideoStreamServer(room, size=(320, 180), fps=15) as srv:
        src = VideoSource(srv.url, read_timeout_s=600).start()
        assert src.wait_state(LIVE, 5)
        reader = src._thread
        srv.set_fault("stall")
        src.stop(timeout=30)
        assert not reader.is_alive()     # it left its read at once, not after the 600 s read timeout


def test_jpeg_size_and_reduction():
    data = jpeg_of(50, (1920, 1080))
    assert mjpeg.jpeg_size(data) == (1920, 1080)
    assert mjpeg.jpeg_size(b"not a jpeg") is None and mjpeg.jpeg_size(data[:20]) is None
    assert mjpeg.reduction_for((1920, 1080), 640) == 2
    assert mjpeg.reduction_for((3840, 2160), 640) == 4
    assert mjpeg.reduction_for((640, 360), 640) == 1
    assert mjpeg.decode(data, 2).shape == (540, 960, 3)
    assert mjpeg.decode(b"\xff\xd8garbage") is None


def test_a_stream_closed_while_it_opens_gives_up_at_once():
    # A source stopping closes its stream from another thread, maybe while the reader
    # is still connecting: the open then fails at once with a clear error, instead of
    # waiting out the read timeout on a camera that does not answer.
    from vksroom.drivers.errors import TransportError
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        stream = mjpeg.MjpegStream(f"http://127.0.0.1:{silent.getsockname()[1]}/video.mjpg", 2, 600)
        stream.close()
        with pytest.raises(TransportError, match="closed while connecting"):
            stream.open()
        conn, _ = silent.accept()
        with conn:
            conn.settimeout(5)
            assert conn.recv(100) == b""     # hung up without a request: nothing left to wait for
    finally:
        silent.close()
