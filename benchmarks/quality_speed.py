"""Speed of the frame-quality verdict, against cvtColor and FFmpeg's detectors, in one run.

1. ms per 1080p frame: one cv2.cvtColor BGR->grey (the baseline) vs the full verdict
   (with references, registration on every frame) and the monitoring verdict
   (registration every 10 s). Goal: verdict <= 5x cvtColor. One OpenCV thread.
2. An H.264 1080p clip (live 3 s / frozen 3 s / black 3 s / blurred 3 s, 10 fps) through
   FFmpeg's blurdetect, blackdetect and freezedetect: added ms per frame over plain
   decoding, and frame-by-frame agreement with our blur/black/frozen checks.
3. Share of one core used to monitor three 1080p MJPEG streams (25 fps, loopback, served
   by a child process) at 2 analysed frames per second: this process's CPU time (every
   thread, FFmpeg's included) / wall time, with our own MJPEG reader and, in the same run,
   with cv2.VideoCapture as before. Goal <= 20 %.
4. What H.264 (RTSP) cameras cost: cv2.VideoCapture decoding every frame of a 1080p main
   stream against a 640x360 sub-stream.

    .venv/bin/python benchmarks/quality_speed.py [--seconds 10]
    .venv/bin/python benchmarks/quality_speed.py --only-frame --against /tmp/main_quality.py --cpu-time --runs 1000

``--against FILE`` times another ``quality.py`` (e.g. ``git show main:drivers/video/quality.py
> /tmp/main_quality.py``) in the same rounds as this one, so that a change's speed is told
apart from the load of a shared machine; it also checks both give the benchmark frame the
same verdict. ``--cpu-time`` times part 1 by this thread's CPU time: at a load average of 10
(2026-12-02, 00:10-00:30) the wall clock read 12-35x one cvtColor for the monitoring
verdict, the CPU time 7-9x at the median and 4.4-8x in the fastest rounds; the same file against itself
read 1.05 with ``--runs 1000`` (100 rounds; the per-round ratios' median) and 0.91 / 1.01
with 10 rounds: the noise floor. Branch speed5 against main, CPU time, 100 rounds, load 7.6-8.6:
the monitoring verdict 0.83 / 0.85 of main's (median), in the fastest rounds 4.6x / 4.9x one
cvtColor against main's 6.6x / 5.8x (docs/frame-quality.md, "Speed of the monitoring verdict").
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from vksroom.drivers.video.capture import Monitor, VideoSource
from vksroom.drivers.video.quality import Analyzer, Reference
from vksroom.hil.faults import apply, sensor_noise
from vksroom.hil.scene import JUDGE_VIEW, Courtroom
from vksroom.hil.video_stream import VideoStreamServer

FPS = 10
SEG = ("live", "frozen", "black", "blurred")


CLOCK = time.perf_counter      # --cpu-time: time.thread_time


def per_call_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = CLOCK()
        fn()
        times.append(CLOCK() - t)
    return 1000 * statistics.median(times)


def make_clip(room: Courtroom, path: Path, seg_s: int = 3):
    """Render the segments and encode them with libx264; return the per-frame labels."""
    rng = np.random.default_rng(0)
    labels = []
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "1920x1080",
                             "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                             "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    frozen = None
    for seg in SEG:
        for i in range(seg_s * FPS):
            t = len(labels) / FPS
            if seg == "frozen":
                frozen = frozen if frozen is not None else f
                f = frozen
            elif seg == "black":
                f = apply(np.zeros((1080, 1920, 3), np.uint8), "black", 1, rng)
            else:
                f = sensor_noise(room.view(*JUDGE_VIEW, size=(1920, 1080), t=t), 1.5, rng)
                if seg == "blurred":
                    f = apply(f, "blur", 2, rng)
            proc.stdin.write(f.tobytes())
            labels.append(seg)
    proc.stdin.close()
    proc.wait(120)
    return labels


def ffmpeg_run(path: Path, vf: str | None):
    cmd = ["ffmpeg", "-hide_banner", "-nostats", "-threads", "1", "-i", str(path)]
    if vf:
        cmd += ["-vf", vf]
    cmd += ["-f", "null", "-"]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return time.perf_counter() - t, out.stderr


def intervals(text: str, start_key: str, end_key: str):
    starts = [float(x) for x in re.findall(start_key + r"[:=]\s*([0-9.]+)", text)]
    ends = [float(x) for x in re.findall(end_key + r"[:=]\s*([0-9.]+)", text)]
    return list(zip(starts, ends + [1e9] * (len(starts) - len(ends))))


def flags(n: int, spans) -> list[bool]:
    return [any(a <= i / FPS < b for a, b in spans) for i in range(n)]


def agreement(a, b) -> float:
    return sum(x == y for x, y in zip(a, b)) / len(a)


SERVE_SCRIPT = """
import sys, threading
from vksroom.hil.scene import Courtroom
from vksroom.hil.video_stream import VideoStreamServer
room = Courtroom()
servers = [VideoStreamServer(room, size=(1920, 1080), fps=25, loop_frames=12, seed=k).start() for k in range(3)]
print(" ".join(s.url for s in servers), flush=True)
sys.stdin.read()
for s in servers:
    s.stop()
"""


class StreamServers:
    """Three 1080p 25 fps MJPEG cameras in a child process, so that their cost is not ours."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", SERVE_SCRIPT], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.urls = self.proc.stdout.readline().split()
        if len(self.urls) != 3:
            raise RuntimeError("the stream servers did not start")
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        self.proc.wait(30)


def cpu_share_three_streams(urls, room: Courtroom, seconds: float, reader: str):
    """CPU of this whole process (all threads, FFmpeg's own included) / wall time while three
    sources are read and judged at 2 frames/s; and the split by thread kind."""
    ref = [Reference.from_image(room.view(*JUDGE_VIEW, size=(1920, 1080)))]
    cpu = {}
    lock = threading.Lock()

    def measured(fn):
        def run(*a, **kw):
            t0 = time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                with lock:
                    cpu[threading.current_thread().name] = time.thread_time() - t0
        return run

    sources, monitors = [], []
    for k, url in enumerate(urls):
        # capture: the old way, decode every packet, convert to BGR at most 2 fps
        src = VideoSource(url, name=f"cam{k}", reader=reader, max_fps=2.0 if reader == "capture" else 0.0)
        src._run = measured(src._run)
        src.start()
        src.grab(10)
        sources.append(src)
        monitors.append(Monitor(src, Analyzer(ref, drift_every_s=10.0), rate_hz=2.0))
    for m in monitors:
        m._run = measured(m._run)
    parts0 = sum(s.parts for s in sources)
    p0, t0 = time.process_time(), time.monotonic()
    for m in monitors:
        m.start()
    threading.Event().wait(seconds)
    wall = time.monotonic() - t0
    for m in monitors:
        m.stop()
    for s in sources:
        s.stop()
    process = (time.process_time() - p0) / wall
    judged = sum(m.judged for m in monitors)
    used = {s.reading_with for s in sources}
    capture = sum(v for k, v in cpu.items() if k.startswith("video:")) / wall
    analysis = sum(v for k, v in cpu.items() if k.startswith("monitor:")) / wall
    return {"process": process, "capture": capture, "analysis": analysis, "rate": judged / wall / 3,
            "reader": "/".join(sorted(used)), "parts": (sum(s.parts for s in sources) - parts0) / wall / 3}


def h264_decode_cost(room: Courtroom, tmp: Path, size, fps: int, seconds: int = 4) -> float:
    """CPU ms per frame that cv2.VideoCapture spends decoding an H.264 stream of ``size``
    (grab only: no conversion to BGR), all of its threads counted."""
    w, h = size
    path = tmp / f"h264-{w}x{h}.mp4"
    rng = np.random.default_rng(0)
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
                             "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                             "-g", str(2 * fps), "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    for i in range(seconds * fps):
        proc.stdin.write(sensor_noise(room.view(*JUDGE_VIEW, size=size, t=i / fps), 1.5, rng).tobytes())
    proc.stdin.close()
    proc.wait(120)
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    n, p0 = 0, time.process_time()
    while cap.grab():
        n += 1
    took = time.process_time() - p0
    cap.release()
    return 1000 * took / max(n, 1)


def _judged(verdict: dict) -> dict:
    """A verdict without its scores (a change that moves scores may still be timed)."""
    return {**verdict, "checks": {k: {**c, "score": None} for k, c in verdict["checks"].items()}}


def against_timers(path: str, frame, room: Courtroom) -> dict:
    """The no-reference and monitoring verdicts of the ``quality.py`` at ``path``, as part 1
    times this one's; refuses to time them when the two disagree on a frame's verdict (each
    check's ok and threshold; scores may differ)."""
    spec = importlib.util.spec_from_file_location("quality_against", path)
    other = sys.modules[spec.name] = importlib.util.module_from_spec(spec)   # (its dataclasses look it up)
    spec.loader.exec_module(other)
    refs = [other.Reference.from_image(room.view(*JUDGE_VIEW, size=(1920, 1080)))]
    monitor = other.Analyzer(refs, drift_every_s=10.0)
    ours = Analyzer([Reference.from_image(room.view(*JUDGE_VIEW, size=(1920, 1080)))], drift_every_s=10.0)
    for k in range(3):
        a = _judged(ours.analyze(frame, t=k * 0.5, source_ts=k * 0.5).to_dict())
        b = _judged(monitor.analyze(frame, t=k * 0.5, source_ts=k * 0.5).to_dict())
        if a != b:
            raise SystemExit(f"{path} gives another verdict on the benchmark's frame: {b} (this one: {a})")
    clock = iter(range(3, 10**9))
    return {"noref@": lambda: other.Analyzer().analyze(frame),
            "monitor@": lambda: monitor.analyze(frame, t=(k := next(clock)) * 0.5, source_ts=k * 0.5)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="how long to monitor the three streams")
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--only-frame", action="store_true", help="part 1 only (ms per frame)")
    ap.add_argument("--against", metavar="FILE", help="another quality.py timed in the same rounds (part 1)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="part 1 by this thread's CPU time, not the wall clock: waiting for a core on a loaded "
                         "machine is not counted (the caches others share still are)")
    args = ap.parse_args(argv)
    global CLOCK
    if args.cpu_time:
        CLOCK = time.thread_time
    cv2.setNumThreads(1)
    room = Courtroom()

    # 1. one frame, many runs; the baseline and the verdicts are timed in alternating
    # rounds, so that a load change on the machine hits both sides of each ratio alike
    frame = sensor_noise(room.view(*JUDGE_VIEW, size=(1920, 1080), t=0.5), 1.5, np.random.default_rng(1))
    refs = [Reference.from_image(room.view(*JUDGE_VIEW, size=(1920, 1080)))]
    full, monitor = Analyzer(refs), Analyzer(refs, drift_every_s=10.0)
    clock = iter(range(10**9))
    timed = {
        "grey": lambda: cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY),
        "noref": lambda: Analyzer().analyze(frame),
        # as the monitor calls it: with the stream's timestamp, so the noise seen changing
        # between frames is measured too
        "monitor": lambda: monitor.analyze(frame, t=(k := next(clock)) * 0.5, source_ts=k * 0.5),
        "full": lambda: full.analyze(frame, t=next(clock) * 0.5),
    }
    if args.against:
        timed.update(against_timers(args.against, frame, room))
    ms = {k: [] for k in timed}
    ratios = {k: [] for k in timed}
    for _ in range(max(3, args.runs // 10)):
        for k, fn in timed.items():
            ms[k].append(per_call_ms(fn, 10 * (4 if k == "grey" else 1)))
        for k in timed:
            ratios[k].append(ms[k][-1] / ms["grey"][-1])
    med = {k: statistics.median(v) for k, v in ms.items()}
    x = {k: statistics.median(v) for k, v in ratios.items()}
    quiet = {k: min(v) / min(ms["grey"]) for k, v in ms.items()}
    print(f"1080p frame, one OpenCV thread, {'CPU time' if args.cpu_time else 'wall clock'}"
          " (median ms; ratio = median over alternating rounds;")
    print(f"in brackets the ratio of the fastest rounds, what a quiet machine gives):")
    print(f"  cvtColor BGR->grey                  {med['grey']:7.2f} ms   1.0x (baseline)")
    print(f"  verdict, no reference               {med['noref']:7.2f} ms  {x['noref']:5.1f}x [{quiet['noref']:4.1f}x]")
    print(f"  verdict, monitoring (drift / 10 s)  {med['monitor']:7.2f} ms  {x['monitor']:5.1f}x [{quiet['monitor']:4.1f}x]   goal <= 5x: "
          f"{'MET' if x['monitor'] <= 5 else 'NOT MET'}")
    print(f"  verdict, registration every frame   {med['full']:7.2f} ms  {x['full']:5.1f}x [{quiet['full']:4.1f}x]   goal <= 5x: "
          f"{'MET' if x['full'] <= 5 else 'NOT MET'}")
    for k in ("noref", "monitor"):
        if k + "@" in timed:
            print(f"  {k:7s} with {args.against}: {med[k + '@']:7.2f} ms  {x[k + '@']:5.1f}x [{quiet[k + '@']:4.1f}x];"
                  f" this one / that one: median {statistics.median(m / o for m, o in zip(ms[k], ms[k + '@'])):.3f}, fastest rounds {min(ms[k]) / min(ms[k + '@']):.3f}")
    if args.only_frame:
        return 0

    # 2. FFmpeg on an H.264 clip
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        labels = make_clip(room, clip)
        n = len(labels)
        t_dec, _ = ffmpeg_run(clip, None)
        t_black, black_log = ffmpeg_run(clip, "blackdetect=d=0.5")
        t_freeze, freeze_log = ffmpeg_run(clip, "freezedetect=d=2")
        t_blur, blur_log = ffmpeg_run(clip, "blurdetect,metadata=print:key=lavfi.blur")
        ours = []
        cap = cv2.VideoCapture(str(clip))
        a = Analyzer(refs)
        i = 0
        while True:
            ok, f = cap.read()
            if not ok:
                break
            ours.append(a.analyze(f, t=i / FPS, source_ts=i / FPS))
            i += 1
        cap.release()
    n = min(n, len(ours))
    print(f"\nFFmpeg on a {n}-frame 1080p H.264 clip ({' / '.join(SEG)}, {n // len(SEG) // FPS} s each), one thread:")
    print(f"  decoding alone                      {1000 * t_dec / n:7.2f} ms/frame")
    for name, t in (("blackdetect", t_black), ("freezedetect", t_freeze), ("blurdetect", t_blur)):
        print(f"  {name:12s} added                 {1000 * (t - t_dec) / n:7.2f} ms/frame")
    f_black = flags(n, intervals(black_log, "black_start", "black_end"))
    f_freeze = flags(n, intervals(freeze_log, "freeze_start", "freeze_end"))
    blur_vals = [float(x) for x in re.findall(r"lavfi\.blur=([0-9.naif+-]+)", blur_log)][:n]
    live_blur = statistics.median(v for v, lab in zip(blur_vals, labels) if lab == "live")
    f_blur = [v > 1.5 * live_blur if v == v else False for v in blur_vals]
    o_black = [not v.checks["black"].ok for v in ours[:n]]
    o_freeze = [not v.checks["frozen"].ok for v in ours[:n]]
    o_blur = [not v.checks["blur"].ok for v in ours[:n]]
    truth = {k: [lab == k for lab in labels[:n]] for k in SEG}
    # a freeze can only be known after it lasted 2 s (both detectors use d=2)
    start = labels.index("frozen")
    truth["frozen"] = [lab == "frozen" and i - start >= 2 * FPS for i, lab in enumerate(labels[:n])]
    print("  agreement with ours, frame by frame (and each against the segment labels):")
    print(f"    black : {agreement(f_black, o_black):.3f}   ffmpeg vs truth {agreement(f_black, truth['black']):.3f}"
          f"   ours vs truth {agreement(o_black, truth['black']):.3f}")
    print(f"    frozen: {agreement(f_freeze, o_freeze):.3f}   ffmpeg vs truth {agreement(f_freeze, truth['frozen']):.3f}"
          f"   ours vs truth {agreement(o_freeze, truth['frozen']):.3f}"
          "   (truth: 2 s into the frozen stretch)")
    print(f"    freezedetect spans (s): {[(round(a, 1), round(b, 1)) for a, b in intervals(freeze_log, 'freeze_start', 'freeze_end')]}"
          f"; ours flags frames {[i for i, x in enumerate(o_freeze) if x][:1]}..{[i for i, x in enumerate(o_freeze) if x][-1:]}")
    print(f"    blur  : {agreement(f_blur[:n], o_blur[:len(f_blur)]):.3f}   ffmpeg (edge width > 1.5x live) vs truth "
          f"{agreement(f_blur, truth['blurred'][:len(f_blur)]):.3f}   ours vs truth {agreement(o_blur, truth['blurred']):.3f}")
    print(f"    lavfi.blur medians: " + ", ".join(
        f"{k} {statistics.median([v for v, lab in zip(blur_vals, labels) if lab == k] or [float('nan')]):.2f}" for k in SEG))

    # 3. three live streams, the old reader and the new one in the same run
    print(f"\nthree 1080p MJPEG streams at 25 fps (served by a child process), judged at 2 frames/s each, "
          f"{args.seconds:g} s; share of one core = this process's CPU time / wall time:")
    with StreamServers() as servers:
        shares = {r: cpu_share_three_streams(servers.urls, room, args.seconds, r) for r in ("capture", "mjpeg")}
    for r, label in (("capture", "cv2.VideoCapture (decode every part, BGR <= 2 fps)"),
                     ("mjpeg", "own MJPEG reader (split parts, decode judged ones reduced)")):
        x = shares[r]
        print(f"  {label:60s} {100 * x['process']:5.1f} %   (reader threads {100 * x['capture']:4.1f} %, "
              f"analysis {100 * x['analysis']:4.1f} %; judged {x['rate']:.2f}/s per stream"
              + (f", {x['parts']:.1f} parts/s read" if r == "mjpeg" else "") + ")")
    new = shares["mjpeg"]["process"]
    print(f"  goal <= 20 % with the MJPEG reader: {'MET' if new <= 0.20 else 'NOT MET'} "
          f"({shares['capture']['process'] / max(new, 1e-9):.1f}x less CPU than cv2.VideoCapture)")

    # 4. what an H.264 (RTSP) camera costs instead
    with tempfile.TemporaryDirectory() as tmp:
        main_ms = h264_decode_cost(room, Path(tmp), (1920, 1080), 25)
        sub_ms = h264_decode_cost(room, Path(tmp), (640, 360), 10)
    print("\nH.264 cameras (RTSP) go through cv2.VideoCapture, which must decode every frame (each depends")
    print("on the ones before it), however few we judge. Decoding CPU (grab only, all decoder threads):")
    print(f"  1080p main stream: {main_ms:5.2f} ms/frame; 3 cameras x 25 fps = {3 * 25 * main_ms / 10:5.1f} % of one core"
          " before any analysis")
    print(f"  640x360 sub-stream: {sub_ms:5.2f} ms/frame; 3 cameras x 10 fps = {3 * 10 * sub_ms / 10:5.1f} % of one core")
    print("  Remedy: point the monitor at the camera's sub-stream (second RTSP profile, 640x360 or")
    print("  similar at 5-10 fps); the analysis runs at about 640x360 anyway. A Pi 4 is 4-8x slower")
    print("  per operation than this machine, a Pi 5 2-3x; the Pi 5 has no H.264 hardware decoder and")
    print("  the pip OpenCV wheel does not use the Pi 4's.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
