"""The line simulators' base: one session per plug, and nothing of one plug reaches another."""
from __future__ import annotations

import os
import select
import threading

import pytest

from vksroom.hil import line_sim
from vksroom.hil.line_sim import LineSimulator

pytestmark = pytest.mark.timeout(20)


class Echo(LineSimulator):
    def handle(self, session, line):
        self.send(session, f"ok {line}")


def read_line(fd: int, timeout: float) -> bytes:
    buf = b""
    while not buf.endswith(b"\r\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            break
        buf += os.read(fd, 100)
    return buf


def test_a_reader_late_from_its_unplug_never_answers_the_next_plugs_line(monkeypatch):
    # Under load the last plug's reader can be held between its loop check and its select()
    # through an unplug and a replug, whose new pty takes the same fd numbers. Hold it there
    # (and the new reader after it): the new plug's first line must still be answered.
    sim = Echo().start()
    try:
        old = {t for t in threading.enumerate() if t.name.endswith("-io")}
        parked, go, old_done = threading.Event(), threading.Event(), threading.Event()
        real = select.select

        class HeldSelect:
            def select(self, r, w, x, t):
                me = threading.current_thread()
                if me in old:
                    parked.set()
                    go.wait(5)
                    try:
                        return real(r, w, x, t)
                    finally:
                        old_done.set()
                if me.name.endswith("-io"):
                    old_done.wait(5)
                return real(r, w, x, t)

        monkeypatch.setattr(line_sim, "select", HeldSelect())
        assert parked.wait(2)
        sim.unplug()
        sim.replug()
        fd = os.open(sim.url, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"hello\r\n")
            go.set()
            assert read_line(fd, 3) == b"ok hello\r\n"
        finally:
            os.close(fd)
    finally:
        sim.stop()
