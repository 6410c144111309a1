"""The codec simulator run alone from its command line takes scripted degradations: a call
to it shows them in its statistics, as the driver reads them over the pty."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from vksroom.drivers.codec import open_codec

pytestmark = pytest.mark.timeout(60)


def test_a_scripted_loss_burst_from_the_command_line(tmp_path, closing):
    proc = subprocess.Popen([sys.executable, "-m", "vksroom.hil.codec_sim", "--model", "cisco", "--password", "pw",
                             "--answer-after", "0.1", "--degrade", "loss=15@0.3+60", "--link-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()          # "CiscoCodecSimulator at <path>  (Ctrl-C to stop)"
        assert " at " in line, line
        path = line.split(" at ", 1)[1].split()[0]
        codec = closing(open_codec("cisco", path, username="admin", password="pw"))
        call_id = codec.dial("1001")
        assert codec.wait_call(call_id, lambda a, e: a is not None and a.state == "connected", 10)
        connected = time.monotonic()
        assert codec.call_quality().rx_loss_pct == 0            # healthy at first...
        while (q := codec.call_quality()).rx_loss_pct == 0:     # each reading is a request over the pty
            assert time.monotonic() - connected < 5, "the scripted loss never came"
        assert q.rx_loss_pct == pytest.approx(15.0, abs=0.3)
        assert time.monotonic() - connected >= 0.25             # ...until 0.3 s after connecting
    finally:
        proc.terminate()
        proc.wait(10)
