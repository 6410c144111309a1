"""An idle serial line costs the Pi nothing: its reader sleeps in select until bytes come or the
line is closed, instead of waking five times a second to look at its flags."""
from __future__ import annotations

import os
import pty
import threading
import time

import pytest

from vksroom.drivers.line import LineClient
from vksroom.drivers.transport import SerialTransport

pytestmark = pytest.mark.timeout(30)


def switches(native_id: int) -> int:
    with open(f"/proc/self/task/{native_id}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))


def test_an_idle_reader_wakes_for_bytes_and_for_close_only():
    device, port = pty.openpty()
    heard = threading.Event()
    client = LineClient(SerialTransport(os.ttyname(port)), on_event=lambda line: heard.set())
    try:
        client.open(2)
        reader = client._thread
        assert reader is not None and reader.native_id is not None
        before = switches(reader.native_id)
        quiet = threading.Event()
        quiet.wait(1.5)                                  # an idle second and a half
        assert switches(reader.native_id) - before <= 2  # was 7-8 with a 200 ms select
        os.write(device, b"*e hello\r\n")
        assert heard.wait(2)                             # bytes still wake it at once
        started = time.monotonic()
    finally:
        client.close()
        os.close(device)
    assert time.monotonic() - started < 1.0              # and so does closing it
    assert not reader.is_alive()
