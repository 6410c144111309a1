"""Can the pixels tell a frozen source through x264 at constant quality from a live still room?

Measured on the TUNING set's H.264 clips only (hil.faults.video_set; never the validation
set): per CRF and kind of clip, features of the change at the first keyframe after the
start (against the frame before it) and of the P-frames on either side, on the analysis
grey the freeze check compares (drivers/video/quality.py). Prints min / 10th percentile /
median / 90th percentile / max, then how many clips a candidate keyframe-bridging rule
would carry across the keyframe (a good still room carried across is a false "frozen").
Figures and their reading: docs/frame-quality.md, "Frozen".

    .venv/bin/python benchmarks/frozen_separation.py [--seeds 0,1]
"""
from __future__ import annotations

import argparse
import collections

import numpy as np

from vksroom.drivers.video.cv import cv2
from vksroom.drivers.video.quality import features
from vksroom.hil.faults import video_set


def _change(a: np.ndarray, b: np.ndarray) -> dict:
    """The change from grey ``a`` to grey ``b``: how much, how exactly, and its structure."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    d = b - a
    ad = np.abs(d)
    gx, gy = cv2.Sobel(a, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(a, cv2.CV_32F, 0, 1, ksize=3)
    grad = cv2.blur(np.sqrt(gx * gx + gy * gy), (5, 5))
    lo, hi = np.quantile(grad, [0.3, 0.7])
    mad = float(ad.mean())
    return {
        "mean |d|": mad,
        "unchanged share": float((ad == 0).mean()),
        # requantisation changes detail, not flat areas; fresh sensor noise changes both
        "flat / textured": float(ad[grad <= lo].mean() / max(ad[grad >= hi].mean(), 1e-6)),
        "corr(|d|, gradient)": float(np.corrcoef(ad.ravel(), grad.ravel())[0, 1]) if ad.std() > 0 else 1.0,
        # requantisation error is fine-grained; lights, motion have coarse content
        "16 px low-pass share": float(np.abs(cv2.blur(d, (16, 16))).mean() / max(mad, 1e-6)),
    }


def measure(seeds) -> list[dict]:
    rows = []
    for seed in seeds:
        for c in video_set(seed=seed):
            if c.label == "noise":
                continue
            greys = [features(img).grey for img, _, _, _ in c.frames]
            keys = [key for _, _, _, key in c.frames]
            k = next(i for i in range(1, len(keys)) if keys[i])     # x264 may place it early
            r = {"kind": c.label if c.label == "good" else f"frozen {c.level}", "note": c.note, "rate": c.rate,
                 "scene": c.scene}
            r.update({f"key: {n}": v for n, v in _change(greys[k - 1], greys[k]).items()})
            if k >= 2:
                r["P before key: unchanged share"] = _change(greys[k - 2], greys[k - 1])["unchanged share"]
            if k + 1 < len(keys) and not keys[k + 1]:
                r["P after key: unchanged share"] = _change(greys[k], greys[k + 1])["unchanged share"]
            r["noise before key"] = features(greys[k - 1]).noise
            rows.append(r)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0,1")
    args = ap.parse_args(argv)
    rows = measure([int(s) for s in args.seeds.split(",")])
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["rate"], r["kind"], r["note"])].append(r)
    for col in [k for k in rows[0] if k not in ("kind", "note", "rate", "scene")]:
        print(f"\n{col}")
        for (rate, kind, note), rs in sorted(groups.items()):
            v = np.array([r[col] for r in rs if col in r])
            if v.size:
                q = np.quantile(v, [0, 0.1, 0.5, 0.9, 1])
                print(f"  CRF {rate} {kind:8s} {note:22s} n {v.size:3d}  " + " ".join(f"{x:7.4f}" for x in q))
    print("\ncarried across the keyframe (P-frame before it exactly unchanged >= U, noise >= N, key mean |d| < 4):")
    for u, n in ((0.99, 0.0), (0.995, 1.0), (0.995, 1.5), (0.995, 2.0)):
        got = collections.Counter()
        for r in rows:
            kind = "frozen" if r["kind"] != "good" else "still" if "still" in r["note"] else "other"
            got[(kind, r["rate"], "n")] += 1
            got[(kind, r["rate"], "in")] += (r.get("P before key: unchanged share", 0) >= u
                                             and r["noise before key"] >= n and r["key: mean |d|"] < 4)
        print(f"  U {u} N {n}: " + "  ".join(f"{kind} CRF {rate} {got[(kind, rate, 'in')]}/{got[(kind, rate, 'n')]}"
                                            for kind in ("frozen", "still", "other") for rate in (23, 28, 33)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
