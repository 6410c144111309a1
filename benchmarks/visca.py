"""VISCA round trip against the simulator over loopback, as a ratio to a bare UDP echo.

A camera is another device, so the simulator runs in its own process, and so does the
baseline: a bare UDP echo server (recvfrom, sendto, nothing else). In the same run this
prints the median round trip of (a) the bare echo, (b) a VISCA-over-IP inquiry through our
driver to our simulator and (c) a command (a relative move by 0, so no travel time)
waited for through ACK to its Completion; and, to show where the time goes, (d) a bare
client sending the same inquiry datagram to the simulator (the simulator's own share). The ratio of
(b) to (a) is the figure (goal <= 2x). Each is measured in three process placements (see
``placements``); the figure is the first: client and devices on a CPU each.

    .venv/bin/python benchmarks/visca.py [--n 3000] [--rounds 30]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time

from vksroom.drivers.visca import open_camera

ECHO_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    data, addr = s.recvfrom(2048)
    if data == b"stop":
        break
    s.sendto(data, addr)
"""


def placements() -> list[tuple[str, set[int] | None, set[int] | None]]:
    """(name, CPUs for this client, CPUs for the device processes), the figure's first.

    A camera is another machine with its own processor, so the figure gives the client and
    the devices a CPU each. Where they land matters more than anything we do: on one CPU a
    round trip is two direct switches; across two CPUs each leg is a cross-CPU wake-up,
    slower on a virtual machine; left to the kernel, runs swing between the two. So all
    three are measured and printed, each as ratios within itself."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2:
        return [("placement left to the kernel (one CPU here)", None, None)]
    return [(f"client on CPU {cpus[0]}, devices on CPU {cpus[1]}", {cpus[0]}, {cpus[1]}),
            (f"client and devices all on CPU {cpus[0]}", {cpus[0]}, {cpus[0]}),
            ("placement left to the kernel", set(cpus), None)]


def spawn(args: list[str], cpus: set[int] | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True,
                            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    line = proc.stdout.readline().strip()
    if not line:
        proc.kill()
        raise SystemExit(f"could not start {args}")
    return proc, line


def datagram_round_trips(port: int, n: int) -> list[float]:
    """A bare client: one power inquiry datagram out, one datagram back, nothing parsed."""
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(1.0)
    times = []
    for i in range(n):
        msg = bytes.fromhex("01100005") + (i + 1000).to_bytes(4, "big") + bytes.fromhex("81090400FF")
        t = time.perf_counter()
        client.sendto(msg, ("127.0.0.1", port))
        client.recv(2048)
        times.append(time.perf_counter() - t)
    client.close()
    return times


def timed(fn, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def measure(mine: set[int] | None, devices: set[int] | None, n: int, rounds: int) -> dict[str, list[float]]:
    if mine:
        os.sched_setaffinity(0, mine)
    echo, port = spawn(["-c", ECHO_SERVER], devices)
    sim, line = spawn(["-m", "vksroom.hil.visca_camera", "--transport", "visca-ip", "--port", "0",
                       "--boot-s", "0", "--ack-delay", "0"], devices)
    url = line.split()[-1]
    cam = open_camera(url)
    try:
        for _ in range(300):           # warm up both paths
            cam.power()
        datagram_round_trips(int(port), 300)
        sim_port = int(url.rsplit(":", 1)[1])
        times = {"bare UDP echo": [], "bare client to simulator": [], "VISCA inquiry (power)": [],
                 "VISCA command to Completion": []}
        per = max(1, n // rounds)
        for _ in range(rounds):        # interleave finely so machine noise hits all alike
            times["bare UDP echo"] += datagram_round_trips(int(port), per)
            times["bare client to simulator"] += datagram_round_trips(sim_port, per)
            times["VISCA inquiry (power)"] += timed(cam.power, per)
            times["VISCA command to Completion"] += timed(lambda: cam.move_relative(0, 0), per)
    finally:
        cam.close()
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"stop", ("127.0.0.1", int(port)))
        sim.terminate()
        for proc in (echo, sim):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
    return times


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=3000, help="round trips per measurement")
    p.add_argument("--rounds", type=int, default=30, help="turns the four measurements take, interleaved")
    a = p.parse_args(argv)
    ratios = []
    for name, mine, devices in placements():
        times = measure(mine, devices, a.n, a.rounds)
        base = statistics.median(times["bare UDP echo"])
        print(f"VISCA over IP round trips over loopback, {name} (simulator and echo in their own processes), "
              f"median of {len(times['bare UDP echo'])} each, in {a.rounds} interleaved rounds:")
        for what, t in times.items():
            med = statistics.median(t)
            print(f"  {what:30s} {med * 1e6:8.1f} us   {med / base:5.2f}x")
        ratios.append((name, statistics.median(times["VISCA inquiry (power)"]) / base))
    print("figure: VISCA inquiry / bare UDP echo = "
          + "; ".join(f"{r:.2f}x ({name})" for name, r in ratios) + " (goal <= 2x; the first is the figure)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
