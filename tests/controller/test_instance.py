"""The room's lock and control socket (controller/instance.py), on real files and sockets."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from vksroom.controller import instance
from vksroom.controller.instance import ControlServer, RoomLock

pytestmark = pytest.mark.timeout(30)


def test_the_lock_is_exclusive_and_names_its_holder(tmp_path):
    with RoomLock(tmp_path).acquire("run"):
        with pytest.raises(instance.RoomBusy) as busy:
            RoomLock(tmp_path).acquire("selftest")   # another open of the file: refused, even in this process
        assert busy.value.pid == os.getpid() and busy.value.command == "run"
        assert f"already held by vks-room run (pid {os.getpid()})" in str(busy.value)
    again = RoomLock(tmp_path).acquire("selftest")   # released: free at once
    assert (tmp_path / instance.LOCK_FILE).read_text() == f"{os.getpid()} selftest\n"
    again.release()
    assert (tmp_path / instance.LOCK_FILE).read_text() == ""   # nobody named once it is free


def test_the_kernel_drops_the_lock_of_a_killed_process(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from vksroom.controller.instance import RoomLock; "
         f"RoomLock({str(tmp_path)!r}).acquire('run'); print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(instance.RoomBusy) as busy:
            RoomLock(tmp_path).acquire("run")
        assert busy.value.pid == holder.pid
        holder.kill()
        holder.wait(10)
        RoomLock(tmp_path).acquire("run").release()   # no stale lock after kill -9
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_a_data_directory_that_cannot_be_made_is_said_plainly(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(instance.InstanceError) as err:
        RoomLock(tmp_path / "file" / "room").acquire("run")
    assert str(err.value).startswith(f"cannot use the data directory {tmp_path / 'file' / 'room'}: ")


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(handlers, data_dir=tmp_path, **kw):
        server = ControlServer(data_dir, handlers, **kw).start()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


def raw(path, data: bytes, timeout=5.0) -> dict:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        if data:
            s.sendall(data)
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    return json.loads(reply)


def refuse(request):
    raise ValueError("VKS is suspended (repairs): no tests until resumed")


def test_requests_and_their_answers(serve, tmp_path):
    server = serve({"readiness": lambda r: {"state": "ready"}, "selftest": refuse})
    assert oct(os.stat(server.path).st_mode & 0o777) == "0o660"
    assert instance.ask(tmp_path, "readiness", 5) == {"state": "ready"}
    with pytest.raises(instance.Refused) as no:
        instance.ask(tmp_path, "selftest", 5)
    assert no.value.code == instance.REFUSED and str(no.value) == "VKS is suspended (repairs): no tests until resumed"
    with pytest.raises(instance.Refused) as bad:
        instance.ask(tmp_path, "reboot", 5)
    assert bad.value.code == instance.BAD_REQUEST and "readiness, selftest" in str(bad.value)
    assert raw(server.path, b"not json\n")["code"] == instance.BAD_REQUEST


def test_a_request_is_bounded_in_size_and_time(serve):
    server = serve({"readiness": lambda r: {}}, request_timeout=0.3)
    over = raw(server.path, b"x" * (instance.MAX_REQUEST + 10))
    assert over["code"] == instance.BAD_REQUEST and str(instance.MAX_REQUEST) in over["error"]
    silent = raw(server.path, b"")   # connects, never sends: answered when its time is up, not held open
    assert silent["code"] == instance.BAD_REQUEST and "within 0.3 s" in silent["error"]


def test_a_deep_data_directory_and_a_dead_controllers_socket_file(serve, tmp_path):
    deep = tmp_path / ("d" * 90) / "room"   # longer than AF_UNIX's 108 bytes
    deep.mkdir(parents=True)
    fd = os.open(deep, os.O_RDONLY)
    with socket.socket(socket.AF_UNIX) as dead:   # a socket file nobody listens on any more
        dead.bind(f"/proc/self/fd/{fd}/{instance.SOCKET_FILE}")
    os.close(fd)
    with pytest.raises(instance.NoAnswer):
        instance.ask(deep, "readiness", 5, grace=0.2)
    server = serve({"readiness": lambda r: {"deep": True}}, data_dir=deep)
    assert instance.ask(deep, "readiness", 5) == {"deep": True}
    server.stop()
    assert not server.path.exists()
    with pytest.raises(instance.NoAnswer) as gone:
        instance.ask(deep, "readiness", 5, grace=0.2)
    assert "nothing answers on the control socket" in str(gone.value)


def test_a_request_that_trickles_in_is_cut_off_at_its_deadline(serve):
    server = serve({"readiness": lambda r: {}}, request_timeout=1.0)
    stop = threading.Event()
    sent_all = threading.Event()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(str(server.path))
        started = time.monotonic()

        def trickle():   # a byte every 0.2 s for 6 s, never a whole line: each read is quick, the whole is not
            for byte in b'{"re' + b"x" * 26:
                if stop.wait(0.2):
                    return
                try:
                    s.sendall(bytes([byte]))
                except OSError:          # cut off
                    return
            sent_all.set()

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        reply = b""
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:   # the server closed with trickled bytes unread: a reset after its reply
                break
            if not chunk:
                break
            reply += chunk
        took = time.monotonic() - started
        stop.set()
        sender.join(5)
    assert json.loads(reply)["code"] == instance.BAD_REQUEST
    assert took >= 0.9        # not before its deadline...
    # ...and before the trickle ended: one second from the start, not per read (the sender may
    # itself be cut off by the closed socket first, so "still sending" was a race)
    assert not sent_all.is_set()
