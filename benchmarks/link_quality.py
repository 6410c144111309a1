"""Link-quality benchmark (issue 14): what watching the connection costs, and how soon a lasting
degradation becomes a recommended break.

    .venv/bin/python benchmarks/link_quality.py [--window 20] [--runs 3]

1. CPU of the room process during a hearing, as a ratio against the in-hearing watch without
   link quality: the baseline watches one camera's picture (2/s) and the DSP (1/s); the other
   adds the codec's call statistics (every ``poll_s``: 5 s by default, and 1 s) and the far
   side's picture (the codec's far-end output, 2/s, with blockiness). Every device is a
   simulator in its own process (VISCA camera on UDP, camera and far-end MJPEG streams over
   HTTP, Cisco codec and Tesira on ptys), so only the room's own work is counted
   (``time.process_time`` over a wall-clock window).
2. Time from the onset of a degradation (loss, frame rate, far sound) to ``break.recommended``,
   with ``poll_s`` 1 s and durations 3 s: the goal is duration <= time <= duration + one poll
   (the onset is first seen at the next reading; the duration counts from that reading).
"""
from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from vksroom.controller import events as ev
from vksroom.controller.assemble import build_room
from vksroom.controller.config import parse
from vksroom.controller.schedule import iso_utc
from vksroom.hil.codec_sim import CiscoCodecSimulator


FAR = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1", "number": "1001"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Simulators in their own processes; each prints where it listens on its first line(s)."""

    def __init__(self):
        self.procs: list[subprocess.Popen] = []

    def start(self, *args: str, lines: int = 1) -> list[str]:
        p = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
        self.procs.append(p)
        return [p.stdout.readline().strip() for _ in range(lines)]

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait(10)


def room_config(data_dir: str, devices: dict, quality: dict) -> dict:
    return {"room": {"court_id": "bench", "courtroom": "1", "data_dir": data_dir}, "devices": devices,
            "selftest": {"poll_interval_s": 1.0},
            "lifecycle": {"call_poll_s": 0.2, "watch_interval_s": 10.0, "quality": quality}}


def in_hearing(cfg: dict, poll_s: float | None):
    """A started room with a hearing under way; ``poll_s`` None: the watch without call statistics."""
    room = build_room(parse(cfg))
    if poll_s is None:
        room.watch.quality_limits = {**room.watch.quality_limits, "poll_s": 0}
    started = threading.Event()
    broke: list[float] = []
    room.events.subscribe(lambda e: started.set() if e.kind == ev.HEARING_STARTED else
                          broke.append(time.monotonic()) if e.kind == ev.BREAK_RECOMMENDED else None)
    room.start()
    life = room.lifecycle
    life.change_schedule("create", {"id": "H1", "version": 1, "case_number": "1-bench", "duration_min": 60,
                                    "start": iso_utc(time.time() + 3600), "far_side": FAR, "roles": ["judge"]},
                         "panel")
    life.connect("H1", "bench")
    if not started.wait(20):
        raise SystemExit("the hearing never started")
    return room, broke


def cpu_part(window: float) -> None:
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="vks-bench-")
    try:
        cam_port, stream_port, far_port = free_port(), free_port(), free_port()
        cam = procs.start("vksroom.hil.visca_camera", "--port", str(cam_port), "--boot-s", "0")[0]
        procs.start("vksroom.hil.video_stream", "--port", str(stream_port), "--size", "1280x720")
        far_line, codec_line = procs.start("vksroom.hil.codec_sim", "--model", "cisco", "--password", "pw",
                                           "--answer-after", "0.1", "--far-video-port", str(far_port),
                                           "--link-dir", tmp, lines=2)
        dsp_line = procs.start("vksroom.hil.audio_sim", "--model", "tesira", "--signal", "1=speech",
                               "--signal", "4=speech", "--link-dir", tmp + "/dsp")[0]
        codec_path = codec_line.split(" at ", 1)[1].split()[0]
        dsp_path = dsp_line.split(" at ", 1)[1].split()[0]
        far_url = far_line.split(" at ", 1)[1].strip()
        print(f"simulators: camera {cam.split(' at ')[-1]}, codec {codec_path}, DSP {dsp_path}, far video {far_url}")
        base = {"cam1": {"type": "camera", "url": f"visca-ip://127.0.0.1:{cam_port}",
                         "video": f"http://127.0.0.1:{stream_port}/video.mjpg"},
                "mics": {"type": "dsp", "model": "tesira", "url": dsp_path,
                         "channels": {"judge": {"index": 1}, "codec_return": {"index": 4}}}}
        codec = {"type": "codec", "model": "cisco", "url": codec_path, "username": "admin", "password": "pw"}
        runs = [("watch, no link quality", None, {}),
                ("+ call statistics every 5 s", 5.0, {}),
                ("+ call statistics every 5 s + far picture 2/s", 5.0, {"far_video": far_url}),
                ("+ call statistics every 1 s + far picture 2/s", 1.0, {"far_video": far_url})]
        results = []
        for n, (name, poll_s, extra) in enumerate(runs):
            devices = {**base, "codec": {**codec, **extra}}
            cfg = room_config(f"{tmp}/room{n}", devices, {"poll_s": poll_s or 5.0})
            room, _ = in_hearing(cfg, poll_s)
            try:
                threading.Event().wait(3.0)          # readers connected, first frames judged
                polls0, c0, w0 = room.watch.quality_polls, time.process_time(), time.monotonic()
                threading.Event().wait(window)       # the measurement window: wall time passing is the point
                cpu, wall = time.process_time() - c0, time.monotonic() - w0
                results.append((name, cpu / wall, room.watch.quality_polls - polls0))
            finally:
                room.stop()
        base_cpu = results[0][1]
        print(f"\nCPU of the room process during a hearing ({window:g} s windows; 2 shared cores: noisy)")
        for name, share, polls in results:
            print(f"  {name:48s} {100 * share:6.1f} % of a core   x{share / base_cpu:5.2f}   ({polls} statistics reads)")
    finally:
        procs.stop()


def timing_part(runs: int) -> None:
    limits = {"poll_s": 1.0, "loss_s": 3.0, "fps_s": 3.0, "sound_s": 3.0, "rate_s": 300.0, "jitter_s": 300.0}
    print(f"\nonset -> break.recommended (poll {limits['poll_s']:g} s, duration 3 s; goal 3 s <= t <= 4 s + a reading's time)")
    for kind, value in (("loss", 12.0), ("fps", 4.0), ("sound", None)):
        took = []
        for _ in range(runs):
            sim = CiscoCodecSimulator(username="admin", password="pw", answer_after_s=0.1).start()
            codec = {"type": "codec", "model": "cisco", "url": sim.url, "username": "admin", "password": "pw"}
            room, broke = in_hearing(room_config(tempfile.mkdtemp(prefix="vks-bench-"), {"codec": codec}, limits),
                                     limits["poll_s"])
            try:
                room.watch.wait_quality_polls(1, 10)
                onset = time.monotonic()
                sim.degrade(kind, value)
                deadline = onset + 15
                while not broke and time.monotonic() < deadline:
                    room.watch.wait_quality_polls(1, 5)
                if broke:
                    took.append(broke[0] - onset)
            finally:
                room.stop()
                sim.stop()
        print(f"  {kind:6s} runs {len(took)}/{runs}: min {min(took):.2f} s, median {statistics.median(took):.2f} s, "
              f"max {max(took):.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--window", type=float, default=20.0, help="seconds of CPU measurement per configuration")
    ap.add_argument("--runs", type=int, default=3, help="runs per degradation kind for the timing")
    a = ap.parse_args()
    cpu_part(a.window)
    timing_part(a.runs)


if __name__ == "__main__":
    main()
