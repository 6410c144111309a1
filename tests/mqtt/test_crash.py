"""Crashes: the room process killed with SIGKILL; the Last Will and the outbox."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(90)
HERE = Path(__file__).parent


def spawn(url, data_dir, *extra):
    return subprocess.Popen([sys.executable, str(HERE / "room_proc.py"), url, str(data_dir), *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def read_until(proc, word, timeout=30.0):
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"room process ended before {word!r}")
        lines.append(line.strip())
        if line.strip() == word:
            return lines
    raise AssertionError(f"no {word!r} within {timeout} s")


def test_lost_is_seen_within_one_and_a_half_keepalive_after_kill9(broker, listeners, tmp_path):
    keepalive = 2
    proc = spawn(broker.url, tmp_path, "--keepalive", keepalive)
    try:
        read_until(proc, "ready")
        sub = listeners(broker.url, ["vks/almaty-01/101/lifecycle"])
        sub.wait_for(lambda li: li.docs() and li.docs()[-1]["state"] == "ready")
        os.kill(proc.pid, signal.SIGKILL)
        sub.wait_for(lambda li: li.docs()[-1]["state"] == "lost", timeout=keepalive * 1.5)   # raises if not
    finally:
        proc.kill()
        proc.wait()
