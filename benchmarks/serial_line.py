"""Serial line benchmark: request/response round trips over a pty, as ratios against a
bare pty echo measured in the same run, and the times to detect loss and to recover.

    .venv/bin/python benchmarks/serial_line.py [--rounds 300] [--cycles 5]

Figures:
* baseline: write one line to a pty and read it back from a plain echo thread (pyserial
  on the slave side, no protocol layer);
* line layer: the same echo through LineClient.request (framing, matching, reader thread);
* cisco xStatus Call: the Cisco driver's status query against the codec simulator;
* tesira get mute: the Tesira driver against its simulator;
* loss: the pty is closed (cable pulled): time until the driver sees it; and the device
  hangs (port stays, no answers): time until a 1 s poll fails;
* recovery: the pty comes back at the same path: time until the driver is ready again
  (logged in, feedback registered).
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import sys
import threading
import time
import tty

from vksroom.drivers.codec import open_codec
from vksroom.drivers.audio import open_audio
from vksroom.drivers.errors import DeviceError
from vksroom.drivers.line import LineClient
from vksroom.drivers.transport import SerialTransport
from vksroom.hil.audio_sim import TesiraSimulator
from vksroom.hil.codec_sim import CiscoCodecSimulator


class EchoPty:
    """A pty whose far side echoes every byte back: the cheapest possible device."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self):
        import select

        while not self._stop.is_set():
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    return
                os.write(self.master, data)

    def close(self):
        self._stop.set()
        self._t.join(1)
        os.close(self.master)
        os.close(self.slave)


def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bare_echo(rounds: int) -> list[float]:
    import serial

    echo = EchoPty()
    port = serial.Serial(echo.path, 115200, timeout=1)
    try:
        def once():
            port.write(b"ping\n")
            if port.read_until(b"\n") != b"ping\n":
                raise RuntimeError("echo lost a line")
        once()
        return timed(once, rounds)
    finally:
        port.close()
        echo.close()


def line_echo(rounds: int) -> list[float]:
    echo = EchoPty()
    client = LineClient(SerialTransport(echo.path, 115200), eol="\n")
    client.open(3)
    try:
        def once():
            client.request("ping", end=lambda line: line == "ping", timeout=1)
        once()
        return timed(once, rounds)
    finally:
        client.close()
        echo.close()


def cisco_status(rounds: int) -> list[float]:
    with CiscoCodecSimulator(password="x") as sim:
        codec = open_codec("cisco", sim.url, username="admin", password="x")
        try:
            codec.refresh()
            return timed(codec.refresh, rounds)
        finally:
            codec.close()


def tesira_mute(rounds: int) -> list[float]:
    with TesiraSimulator(channels=2) as sim:
        dsp = open_audio("tesira", sim.url, channels=[1, 2])
        try:
            return timed(lambda: dsp.get_mute(1), rounds)
        finally:
            dsp.close()


def loss_and_recovery(cycles: int) -> dict[str, list[float]]:
    out = {"unplug seen": [], "hang seen (1 s polls)": [], "replug ready": []}
    with CiscoCodecSimulator(password="x") as sim:
        codec = open_codec("cisco", sim.url, username="admin", password="x", timeout=1.5)
        try:
            for _ in range(cycles):
                t0 = time.monotonic()
                sim.unplug()
                if not codec.line.wait_lost(5):
                    raise RuntimeError("unplug not seen within 5 s")
                out["unplug seen"].append(time.monotonic() - t0)
                t1 = time.monotonic()
                sim.replug()
                if not codec.line.wait_ready(10):
                    raise RuntimeError("not back within 10 s")
                out["replug ready"].append(time.monotonic() - t1)
            for i in range(cycles):
                # the hang happens at a random point between two 1 s polls
                codec.refresh()
                offset = (i + 0.5) / cycles
                threading.Event().wait(1.0 - offset)
                sim.silent = True
                t0 = time.monotonic()
                threading.Event().wait(offset)        # the next poll tick
                while True:
                    try:
                        codec.refresh()
                    except DeviceError:
                        break
                    threading.Event().wait(1.0)
                out["hang seen (1 s polls)"].append(time.monotonic() - t0)
                sim.silent = False
                codec.line.wait_ready(5)
        finally:
            codec.close()
    return out


def ms(values: list[float]) -> str:
    p95 = sorted(values)[max(0, math.ceil(len(values) * 0.95) - 1)]
    return (f"median {statistics.median(values) * 1000:8.3f} ms   p95 "
            f"{p95 * 1000:8.3f} ms   max {max(values) * 1000:8.3f} ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)   # the loss cycles would log each unplug

    print(f"serial round trips over a pty, {args.rounds} rounds each (python {sys.version.split()[0]})")
    base = bare_echo(args.rounds)
    base_med = statistics.median(base)
    print(f"  {'bare pty echo (baseline)':28} {ms(base)}   ratio  1.00")
    for name, fn in (("LineClient echo", line_echo), ("cisco xStatus Call", cisco_status),
                     ("tesira get mute", tesira_mute)):
        vals = fn(args.rounds)
        print(f"  {name:28} {ms(vals)}   ratio {statistics.median(vals) / base_med:5.2f}")
    print(f"loss and recovery, {args.cycles} cycles (requirement: lost within 3 s, usable within 5 s)")
    for name, vals in loss_and_recovery(args.cycles).items():
        print(f"  {name:28} {ms(vals)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
