"""What an idle room's DSP costs the machine: wake-ups of the room-side threads, before and after.

    .venv/bin/python benchmarks/dsp_idle.py [--seconds 10] [--before 1a9ae4c] [--model tesira]

A simulated Tesira (5 channels of speech, as hil/demo.py's; TTP on a pty) runs in its own
process; a room with that one DSP (controller.room.Controller: the room thread, the DSP's
coordinator, its line reader) runs in another, once on the code of git revision ``--before``
(unpacked by ``git archive`` into a temporary folder and put first on PYTHONPATH) and once on
this tree. For each, after the DSP is ready and 2 s of settling, the room-side wake-ups:
voluntary + involuntary context switches of its threads (/proc/self/task/*/status) over
``--seconds`` idle, per thread and in total, and the ratio before/after. ``--before ""`` measures
this tree only.

Measured here (x86-64, 2 shared cores, 10 s idle, 2026-12-01, before = 1a9ae4c; wake-ups/s):

    model    before  (line reader  coordinator  room)   after  (coordinator  line reader  room)   ratio
    tesira     25.3  (15.8         7.7          1.8)      2.2  (1.1          0.6          0.5)    11.5x
    shure      36.3  (20.4        13.9          2.0)      2.8  (1.4          0.9          0.5)    13.0x

Before, every poll read each channel's mute (5 round trips a second) and the meters streamed at
100 ms all the time. After, the DSP pushes its mutes and its meters every 2 s; a poll asks it
nothing while it is heard, reads one mute when the line falls quiet and every 10 s; the meters
run at 100 ms only while the panel's meter page, a hearing or a self-test needs them. What is
left is the coordinator's own 1 s poll, the slow stream and the room taking its new levels.
Repeated runs under the other engineers' load: before 24-34, after 2.2-3.3 (20 s runs: 2.3, 2.6).
The whole room (benchmarks/pi_load.py, 15 s idle, this change alone): 70.7 -> 31.5 wake-ups/s.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = 5

ROOM = r"""
import json, sys, threading, time
from pathlib import Path
from vksroom.controller.config import parse
from vksroom.controller.room import Controller

url, model, seconds, data = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
channels = {f"mic{i}": {"index": i} for i in range(1, int(sys.argv[5]) + 1)}
cfg = parse({"room": {"court_id": "bench", "courtroom": "1", "data_dir": data},
             "devices": {"dsp": {"type": "dsp", "model": model, "url": url, "channels": channels}}})
room = Controller(cfg).start()


def health(r):
    return next(str(getattr(d.health, "value", d.health)) for d in r.devices if d.id == "dsp")


ok = room.wait_for(lambda r: health(r) == "ok", 20)
if ok is None:
    sys.exit("the DSP did not become ready within 20 s")
threading.Event().wait(2.0)          # settle: the first polls, the stream set-up


def switches():
    out = {}
    for t in threading.enumerate():
        if t is threading.main_thread():
            continue
        try:
            status = Path(f"/proc/self/task/{t.native_id}/status").read_text()
        except OSError:
            continue
        n = sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches:" in line)
        out[(t.native_id, t.name)] = n
    return out


a, t0 = switches(), time.monotonic()
threading.Event().wait(seconds)
b, wall = switches(), time.monotonic() - t0
per = {}
for key, n in b.items():
    name = key[1]
    group = "line reader" if name.startswith("line:") else name
    per[group] = per.get(group, 0) + (n - a.get(key, 0)) / wall
print(json.dumps({"source": str(Path(__import__("vksroom").__file__).parent), "per_thread": per,
                  "total": sum(per.values()), "health": health(room.readiness())}))
room.stop()
"""


def _source(rev: str, into: Path) -> Path:
    """The tree of git revision ``rev`` as an importable ``vksroom`` package under ``into``."""
    pkg = into / "vksroom"
    pkg.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(pkg)], input=archive, check=True)
    return into


def measure(model: str, seconds: float, source: Path | None, tmp: Path) -> dict:
    sim = subprocess.Popen([sys.executable, "-m", "vksroom.hil.audio_sim", "--model", model,
                            "--channels", str(CHANNELS), "--link-dir", str(tmp / "serial"), "--port", "0",
                            *sum((["--signal", f"{i}=speech"] for i in range(1, CHANNELS + 1)), [])],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = sim.stdout.readline().split(" at ", 1)[1].split()[0]
        env = dict(os.environ)
        if source is not None:
            env["PYTHONPATH"] = os.pathsep.join([str(source), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        data = tempfile.mkdtemp(dir=tmp)
        done = subprocess.run([sys.executable, "-c", ROOM, url, model, str(seconds), data, str(CHANNELS)],
                              env=env, capture_output=True, text=True, timeout=seconds + 60)
        if done.returncode != 0:
            raise SystemExit(f"dsp_idle: the room failed:\n{done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        sim.terminate()
        sim.wait(10)


def show(label: str, m: dict) -> None:
    print(f"{label}: {m['total']:.1f} wake-ups/s (DSP {m['health']}; code from {m['source']})")
    for name, rate in sorted(m["per_thread"].items(), key=lambda kv: -kv[1]):
        print(f"    {name:40} {rate:6.2f}/s")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="seconds measured idle")
    p.add_argument("--before", default="1a9ae4c", help="git revision of the old code ('' to skip it)")
    p.add_argument("--model", choices=("tesira", "shure"), default="tesira")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="vksroom-dsp-idle-") as tmp_name:
        tmp = Path(tmp_name)
        before = measure(args.model, args.seconds, _source(args.before, tmp / "before"), tmp) if args.before else None
        after = measure(args.model, args.seconds, None, tmp)
    print(f"room-side wake-ups of an idle room with one {args.model} DSP ({CHANNELS} channels), "
          f"{args.seconds:g} s, simulator in its own process")
    if before is not None:
        show(f"before ({args.before})", before)
    show("after (this tree)", after)
    if before is not None and after["total"]:
        print(f"before/after: {before['total'] / after['total']:.1f}x fewer wake-ups")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
