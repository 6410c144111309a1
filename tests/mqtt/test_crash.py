"""Crashes: the room process killed with SIGKILL; the Last Will and the outbox."""
from __future__ import annotations

import os
import signal

import pytest

from support.roomproc import read_until, spawn

pytestmark = pytest.mark.timeout(90)


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
