"""Blur without a reference: which edge measure tells a lens just off focus from a focused view?

Measured on the TUNING set only (hil.faults.photo_set's good frames, Gaussian blurs and
disk defocus, seeds 0-2; hil.faults.video_set's good clips and its defocus clips through
libx264 at CRF 23/28/33, seed 0; never the validation set). Every frame's edge points
(local peaks of the gradient where the 5x5 contrast is among the view's strongest 10 %)
are kept once in a pickle (``--dump``); candidate scores are then computed from them
offline (``--load``), and for each the threshold that keeps good frames (but the
microscope picture, which has no sharp edge at all) under the given false-alarm share is
printed with the defocus found at it. Figures and their reading: docs/frame-quality.md,
"Blur without a reference".

    .venv/bin/python benchmarks/blur_separation.py --dump /tmp/blur.pkl [--seeds 0,1,2] [--video 1]
    .venv/bin/python benchmarks/blur_separation.py --load /tmp/blur.pkl
"""
from __future__ import annotations

import argparse
import collections
import pickle

import numpy as np

from vksroom.drivers.video import quality
from vksroom.drivers.video.cv import cv2
from vksroom.hil.faults import PHOTOS, photo_set, video_set


def edge_points(img) -> dict:
    """The analysis grey's edge points and what the candidates need of them."""
    f = quality.features(img)
    g8, n = f.grey, f.noise_here
    out = {"noise": n, "shape": g8.shape, "current": f.edge_ratio}
    k5, k7 = np.ones((5, 5), np.uint8), np.ones((7, 7), np.uint8)
    c5 = cv2.subtract(cv2.dilate(g8, k5), cv2.erode(g8, k5))
    c7 = cv2.subtract(cv2.dilate(g8, k7), cv2.erode(g8, k7))
    gf = g8.astype(np.float32)
    grad = quality._gradient(gf, 0.5)
    g10 = quality._gradient(gf, 1.0)
    g20 = quality._gradient(gf, 2.0)
    half = cv2.resize(g8, (g8.shape[1] // 2, g8.shape[0] // 2), interpolation=cv2.INTER_AREA)
    gh = cv2.resize(quality._gradient(half.astype(np.float32), 0.5), (g8.shape[1], g8.shape[0]))
    hist = np.cumsum(cv2.calcHist([c5], [0], None, [256], [0, 256]).ravel())
    out["q"] = {q: float(np.searchsorted(hist, q * hist[-1])) for q in (0.9, 0.95, 0.97, 0.99)}
    thr = max(out["q"][0.9], 10.0 + 3.0 * n)
    at = (c5 >= thr) & (grad >= cv2.dilate(grad, np.ones((3, 3), np.uint8)))
    for name, a in (("c5", c5), ("c7", c7), ("g05", grad), ("g10", g10), ("g20", g20), ("gh", gh)):
        out[name] = a[at].astype(np.float32)
    return out


def dump(path, seeds, video: int, photos: bool = True) -> None:
    rows = []
    for seed in seeds if photos else ():
        _, samples = photo_set(PHOTOS, good_per_photo=24, seed=seed, camera_per_photo=12, covers_per_photo=6,
                               defocus_per_photo=6)
        for s in samples:
            if s.label not in ("good", "blur"):
                continue
            img = s.frames[-1][0]
            rows.append({"src": "photo", "seed": seed, "scene": s.scene, "label": s.label, "level": s.level,
                         "note": s.note, "crf": 0, **edge_points(img)})
        print("seed", seed, len(rows), flush=True)
    for seed in seeds[:video]:
        for c in video_set(PHOTOS, seed=seed):
            if c.label not in ("good", "blur"):
                continue
            for i, (img, *_rest) in enumerate(c.frames):
                rows.append({"src": "clip", "seed": seed, "scene": c.scene, "label": c.label, "level": c.level,
                             "note": c.note, "crf": c.rate, "i": i, **edge_points(img)})
        print("clips", seed, len(rows), flush=True)
    with open(path, "wb") as fh:
        pickle.dump(rows, fh)


def _width(r, strong=0.97, q=0.05, c="c5", floor=10.0, absolute=0.0):
    """The current score's form on the kept points: 1 / the ``q`` quantile of
    contrast / peak gradient at the points whose contrast is above the view's ``strong``
    quantile (and ``absolute`` grey levels)."""
    n = r["noise"]
    thr = max(r["q"][strong], floor + 3.0 * n, absolute)
    keep = r["c5"] >= thr
    if int(keep.sum()) < 50:
        return None
    peak = np.sqrt(np.maximum(r["g05"][keep] ** 2 - (quality.EDGE_NOISE * n) ** 2, 1e-6))
    return 1.0 / max(float(np.quantile(r[c][keep] / peak, q)), 1e-3)


def _fine(r, strong=0.97, q=0.5):
    """The ``q`` quantile, over the same points, of the gradient at sigma 0.5 over the
    gradient at half size (sigma 0.5 there, brought back up)."""
    n = r["noise"]
    keep = r["c5"] >= max(r["q"][strong], 10.0 + 3.0 * n)
    if int(keep.sum()) < 50:
        return None
    peak = np.sqrt(np.maximum(r["g05"][keep] ** 2 - (quality.EDGE_NOISE * n) ** 2, 1e-6))
    return float(np.quantile(peak / np.maximum(r["gh"][keep], 1e-3), q))


def _both(r, k=0.15, mid=1.2):
    w, f = _width(r), _fine(r)
    return None if w is None else w + k * (f - mid)


CANDIDATES = {
    "quality.py": lambda r: r["current"],
    "width (main)": lambda r: _width(r),
    "width top 1 %": lambda r: _width(r, 0.99),
    "width top 5 %": lambda r: _width(r, 0.95),
    "width top 10 %": lambda r: _width(r, 0.9),
    "width q10": lambda r: _width(r, q=0.10),
    "width q02": lambda r: _width(r, q=0.02),
    "width 7x7": lambda r: _width(r, c="c7"),
    "width abs 40": lambda r: _width(r, absolute=40.0),
    "width abs 60": lambda r: _width(r, absolute=60.0),
    "fine / half": _fine,
    "width + 0.1 fine": lambda r: _both(r, 0.1),
    "width + 0.15 fine": _both,
    "width + 0.2 fine": lambda r: _both(r, 0.2),
}


def _score(r, fn):
    v = fn(r)
    return 0.5 if v is None else v


def evaluate(rows, names=None, fa_share=0.0) -> None:
    names = names or list(CANDIDATES)
    for name in names:
        fn = CANDIDATES[name]
        good = [(r, _score(r, fn)) for r in rows if r["label"] == "good" and r["scene"] != "cell"]
        blur = [(r, _score(r, fn)) for r in rows if r["label"] == "blur"]
        gs = np.sort([s for _, s in good])
        k = int(fa_share * len(gs))
        thr = gs[k] - 1e-6       # good frames under it: at most k
        found = collections.defaultdict(lambda: [0, 0])
        for r, s in blur:
            key = (r["src"], r["note"] or f"gauss {r['level']}", r["crf"])
            found[key][0] += 1
            found[key][1] += s < thr
        near = gs[min(len(gs) - 1, k + 20)]      # the 20 lowest good frames over the threshold
        lowest = collections.Counter(r["scene"] + (f"/{r['crf']}" if r["crf"] else "") for r, s in good if s < near)
        line = ", ".join(f"{src[0]}{crf or ''} {what.replace('disk ', '')} {n_found / n:.2f}"
                         for (src, what, crf), (n, n_found) in sorted(found.items()))
        print(f"{name:18s} thr {thr:.3f}: {line}")
        print(f"{'':18s} lowest good: {dict(lowest.most_common(5))}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", default=None)
    ap.add_argument("--load", default=None)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--video", type=int, default=1)
    ap.add_argument("--no-photos", action="store_true", help="only the clips")
    ap.add_argument("--fa", type=float, default=0.0, help="share of good frames (but the microscope's) allowed under")
    args = ap.parse_args(argv)
    if args.dump:
        dump(args.dump, [int(x) for x in args.seeds.split(",")], args.video, not args.no_photos)
    if args.load:
        rows = []
        for path in args.load.split(","):
            with open(path, "rb") as fh:
                rows += pickle.load(fh)
        evaluate(rows, fa_share=args.fa)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
