"""Obstruction without a reference on the tuning set's covers and lighting changes.

Per analysed frame, the no-reference obstruction check alone: covers found and good frames
called obstructed, on the photographs (``hil.faults.photo_set``: the old generator's
obstructions and the real-looking covers, good frames with camera changes) and on the x264
clips of ``hil.faults.cover_clips`` (good views under lights dimmed, ramping, daylight, a
tone curve with an exposure step and a room lit from one side; covers while the lights
change), by condition. Tuning material only: thresholds are set here, never on the
independent set (docs/frame-quality.md).

    .venv/bin/python benchmarks/obstruction_tuning.py [--seeds 0,1,2] [--clip-seeds 0,1] [--photos a,b,...]
"""
from __future__ import annotations

import argparse
import collections

from vksroom.drivers.video.quality import Analyzer
from vksroom.hil.faults import PHOTOS, cover_clips, photo_set


def _line(title: str, counts: dict) -> str:
    return f"  {title}: " + ", ".join(f"{k} {hit}/{n}" for k, (n, hit) in sorted(counts.items()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1,2", help="photo_set draws")
    ap.add_argument("--clip-seeds", default="0,1", help="cover_clips draws")
    ap.add_argument("--photos", default=",".join(PHOTOS))
    args = ap.parse_args(argv)
    names = tuple(args.photos.split(","))
    photos = collections.defaultdict(lambda: [0, 0])
    clips = collections.defaultdict(lambda: [0, 0])
    for seed in (int(s) for s in args.seeds.split(",") if s):
        _, samples = photo_set(names, 24, seed=seed, camera_per_photo=12, covers_per_photo=6)
        for s in samples:
            if s.label in ("good", "obstruction"):
                v = Analyzer().analyze(s.frames[-1][0])
                kind = s.note.split()[0] if s.label == "obstruction" and s.note else ("old" if s.label == "obstruction" else "")
                c = photos[f"{s.label}{' ' + kind if kind else ''}"]
                c[0] += 1
                c[1] += "obstruction" in v.faults
    for seed in (int(s) for s in args.clip_seeds.split(",") if s):
        for clip in cover_clips(names, seed=seed):
            a = Analyzer()
            for i, (img, t, ts, key) in enumerate(clip.frames):
                v = a.analyze(img, t=t, source_ts=ts, keyframe=key, gop=1 + i // 4)
                c = clips[f"{clip.label} {clip.note.split()[0]}"]
                c[0] += 1
                c[1] += "obstruction" in v.faults
    print(_line("photographs, obstruction found / good frames called obstructed", photos))
    print(_line("x264 clips, by cover kind / lighting change", clips))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
