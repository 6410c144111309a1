"""Accuracy of the frame-quality analyzer on a labelled set built from real photographs.

Prints recall per fault (the verdict says "fault"; and how often the expected check is
among the faults) and the false-alarm rate on good frames, with references (two per view:
lights full and dimmed) and without (defaults). Goal: recall >= 0.95 at <= 1 % false alarms.

    .venv/bin/python benchmarks/quality_accuracy.py [--good N] [--photos a,b,...] [--verbose]
"""
from __future__ import annotations

import argparse
import collections
import sys
import time

from vksroom.drivers.video.quality import Analyzer, Reference
from vksroom.hil.faults import FAULTS, PHOTOS, photo_set

# Which check should name each injected fault.
EXPECT = {"blur": {"blur"}, "dark": {"dark", "black"}, "bright": {"bright"}, "black": {"black"},
          "blue": {"black"}, "frozen": {"frozen"}, "noise": {"noise"}, "cast": {"cast"},
          "obstruction": {"obstruction"}, "wrong_view": {"drift"}}


def run(samples, refs, use_refs: bool, verbose: bool = False):
    analyzers = {}
    stats = collections.defaultdict(lambda: [0, 0, 0])     # label -> [n, flagged, named]
    false_checks = collections.Counter()
    for s in samples:
        if s.scene not in analyzers:
            rs = [Reference.from_image(img, f"{s.scene}-{i}") for i, img in enumerate(refs[s.scene])]
            analyzers[s.scene] = Analyzer(rs if use_refs else ())
        a = analyzers[s.scene]
        a.reset()
        for img, t, ts in s.frames:
            v = a.analyze(img, t=t, source_ts=ts)
        st = stats[s.label]
        st[0] += 1
        st[1] += not v.ok
        if s.label == "good":
            false_checks.update(v.faults)
            if verbose and not v.ok:
                print("  false alarm", s.scene, s.note, {n: round(v.checks[n].score, 3) for n in v.faults})
        else:
            st[2] += bool(EXPECT[s.label] & set(v.faults))
            if verbose and not (EXPECT[s.label] & set(v.faults)):
                print("  missed", s.label, s.level, s.scene, s.note,
                      {n: round(c.score, 3) for n, c in v.checks.items()})
    return stats, false_checks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--good", type=int, default=24, help="good frames per photograph")
    ap.add_argument("--photos", default=",".join(PHOTOS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    refs, samples = photo_set(args.photos.split(","), good_per_photo=args.good, seed=args.seed)
    print(f"labelled set: {len(refs)} photographs, {len(samples)} samples "
          f"({sum(s.label == 'good' for s in samples)} good), built in {time.perf_counter() - t0:.1f} s")
    worst = {}
    for use_refs in (True, False):
        t0 = time.perf_counter()
        stats, false_checks = run(samples, refs, use_refs, args.verbose)
        title = "with references (full + dimmed)" if use_refs else "without references (defaults)"
        print(f"\n{title}: {time.perf_counter() - t0:.1f} s")
        print(f"  {'fault':12s} {'n':>4s} {'recall':>7s} {'named':>7s}")
        recalls = []
        for f in FAULTS:
            n, flagged, named = stats[f]
            recalls.append(flagged / n)
            print(f"  {f:12s} {n:4d} {flagged / n:7.3f} {named / n:7.3f}")
        n, fa, _ = stats["good"]
        print(f"  false alarms on good frames: {fa}/{n} = {100 * fa / n:.2f} %  (by check: {dict(false_checks)})")
        worst[use_refs] = (min(recalls), fa / n)
    r, fa = worst[True]
    goal = r >= 0.95 and fa <= 0.01
    print(f"\ngoal (with references): min recall {r:.3f} >= 0.95 and false alarms {100 * fa:.2f} % <= 1 %: "
          f"{'MET' if goal else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
