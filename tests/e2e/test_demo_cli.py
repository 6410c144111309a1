"""`vks-room demo` as a newcomer runs it: one command, a panel, a retained readiness,
and Ctrl-C that leaves no process or port behind."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.e2ekit import Watcher, free_port, get_text

pytestmark = pytest.mark.timeout(120)


def children_of(pid: int) -> set[int]:
    """All descendants of ``pid`` (from /proc), so we can prove none is left behind."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_serves_panel_and_retained_readiness_and_stops_clean_on_ctrl_c(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vksroom", "demo", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        out = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in out, out
        broker = re.search(r"MQTT broker:\s+(mqtt://\S+)", out).group(1)
        topic = re.search(r"Readiness:\s+(\S+)", out).group(1)
        assert topic == "vks/demo-court/7/readiness"

        watcher = Watcher(broker, topic)
        try:
            # Ready after the demo's first self-test (its checks include the judge preset).
            doc = watcher.wait(topic, lambda d: d.get("state") == "ready" and any(
                c["check"] == "preset_judge" for c in d["devices"]["cam_judge"]["checks"]), 40)
            assert doc is not None, watcher.messages
        finally:
            watcher.close()
        late = Watcher(broker, topic)   # a scheduler connecting now is told at once: retained
        try:
            doc = late.wait(topic, lambda d: True, 5)
            assert doc["state"] == "ready" and late.retained[topic] is True
        finally:
            late.close()
        page = get_text(f"http://127.0.0.1:{port}/")
        assert 'data-state="ready"' in page

        broker_port = int(broker.rsplit(":", 1)[1])
        descendants = children_of(proc.pid)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=6)   # the issue asks for everything stopped within 5 s
        assert proc.returncode == 0
        assert not port_open(port) and not port_open(broker_port)
        left = {p for p in descendants if Path(f"/proc/{p}").exists()}
        assert not left, f"processes left behind: {left}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_demo_refuses_a_busy_port_with_one_clear_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "vksroom", "demo", "--port", str(port)],
                             capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in run.stderr
    assert "Traceback" not in run.stderr
