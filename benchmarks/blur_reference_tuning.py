"""Blur WITH a reference: which comparison finds a lens just off focus through H.264?

Measured on the TUNING set only (hil.faults.photo_set's good and blur frames, seeds 0-2;
hil.faults.video_set's good clips and its mild-defocus clips through libx264 at CRF
23/28/33, seed 0; never the validation set). Every frame is judged by the analyzer with
its references (lights full + dimmed) as benchmarks/quality_accuracy.py does; for the
frames the blur check judged against an aligned reference, the per-block sums of
candidate comparisons are kept in a pickle (``--dump``) with the frame's other faults,
and candidates are compared offline (``--load``): for each threshold, the good frames
alarmed (by any check) and the defocus found per radius and CRF. Figures and their reading:
docs/frame-quality.md, "Blur with a reference through H.264".

    .venv/bin/python benchmarks/blur_reference_tuning.py --dump /tmp/blurref.pkl [--clips-only]
    .venv/bin/python benchmarks/blur_reference_tuning.py --load /tmp/blurref.pkl
"""
from __future__ import annotations

import argparse
import collections
import pickle

import numpy as np

from vksroom.drivers.video import quality
from vksroom.drivers.video.cv import cv2
from vksroom.drivers.video.quality import Analyzer, Reference
from vksroom.hil.faults import PHOTOS, clip_references, load_photo, photo_set, references_for, video_set

FINES = {"f08": (0.8, 2.0), "f05": (0.5, 1.2), "f06": (0.6, 1.5)}
EDGE_SHARES = (1.0, 0.2, 0.1, 0.05)      # the reference's strongest band pixels kept (1: all)
_LAST: dict = {}


def _candidates(model, grey, shift, noise):
    """The current score's steps, and per block the fine projections of the candidates."""
    (cx, cy), fine_kernel, fine_energy, ref_coarse, coarse_energy, ref_hf, ref_tone = model._bands_at(shift)
    g = grey.astype(np.float32)
    rows, cols = model.half_inner
    hx, hy = cx // 2, cy // 2
    coarse = quality._band(cv2.pyrDown(g), quality.BLUR_COARSE)[rows.start + hy: rows.stop + hy,
                                                                cols.start + hx: cols.stop + hx]
    grid = quality._grid_sum
    cross, own = grid(coarse * ref_coarse), grid(coarse * coarse)
    same = (cross >= quality.BLUR_SAME * np.sqrt(coarse_energy * own)) & (coarse_energy > 0.25)
    if int(same.sum()) < 4:
        return None
    rows, cols = model.inner
    sliced = g[rows.start + cy: rows.stop + cy, cols.start + cx: cols.stop + cx]
    lively = sliced - cv2.blur(sliced, (3, 3))
    own_hf = grid(lively * lively)
    lit = float(np.median(cross[same] / coarse_energy[same]))
    expected = max(lit, 0.0) ** 2 * ref_hf + 0.9 * noise * noise + 1.0
    same &= own_hf <= quality.BLUR_LIVELY * expected
    tone = np.log(grid(sliced) + 4.0)
    if int(same.sum()) >= 4:
        fit = np.polyfit(ref_tone[same], tone[same], 1)
        off = np.abs(tone - np.polyval(fit, ref_tone))
        keep = same & (off <= max(quality.BLUR_TONE, 2.5 * float(np.median(off[same]))))
        if int(keep.sum()) >= 4:
            fit = np.polyfit(ref_tone[keep], tone[keep], 1)
        same &= np.abs(tone - np.polyval(fit, ref_tone)) <= quality.BLUR_TONE
    if int(same.sum()) < 4:
        return None
    # the reference, resampled as _bands_at does
    c = (cx, cy)
    t = tuple(ci - d for ci, d in zip(c, shift))
    whole = tuple(int(np.floor(ti)) for ti in t)
    ref = quality._subpixel_shift(model.grey, t[0] - whole[0], t[1] - whole[1])
    if whole != (0, 0):
        ref = np.roll(ref, (-whole[1], -whole[0]), axis=(0, 1))
    out = {"same": same.copy(), "cross": cross, "coarse_energy": coarse_energy,
           "fine_energy_all": fine_energy, "noise": noise}
    for name, sig in FINES.items():
        rf = quality._band(ref, sig)
        inner = rf[model.inner]
        mag = np.abs(inner)
        for share in EDGE_SHARES:
            if share < 1.0:
                thr = float(np.quantile(mag, 1 - share))
                m = (mag >= thr).astype(np.float32)
                full = np.zeros_like(rf)
                full[model.inner] = m
                kern = quality._band(rf * full, sig)[model.inner]
                energy = grid(inner * inner * m)
            else:
                kern = quality._band(rf, sig)[model.inner]
                energy = grid(inner * inner)
            out[(name, share)] = (grid(sliced * kern), energy)
    # the gradient at the reference's strongest edges, fine (sigma 0.5) over coarse (1.5)
    def grads(img):
        res = {}
        for s in (0.5, 1.0, 1.5):
            b = cv2.GaussianBlur(img, (0, 0), s)
            gx, gy = cv2.Sobel(b, cv2.CV_32F, 1, 0), cv2.Sobel(b, cv2.CV_32F, 0, 1)
            res[s] = np.sqrt(gx * gx + gy * gy)
        return res
    gr = grads(ref[model.inner])
    gf = grads(sliced)
    blk = np.zeros(gr[1.0].shape, bool)
    bh, bw = gr[1.0].shape[0] // quality.BLUR_GRID[1], gr[1.0].shape[1] // quality.BLUR_GRID[0]
    sm = np.repeat(np.repeat(same, bh, axis=0), bw, axis=1)
    blk[: sm.shape[0], : sm.shape[1]] = sm
    for share in (0.05, 0.02):
        thr = float(np.quantile(gr[1.0], 1 - share))
        at = (gr[1.0] >= thr) & blk
        out[("grad", share)] = {s: (float(gf[s][at].sum()), float(gr[s][at].sum())) for s in gr}
    return out


def _wrap():
    orig = quality._BlurModel.score

    def score(self, grey, shift, noise=0.0):
        s = orig(self, grey, shift, noise)
        _LAST["cand"] = _candidates(self, grey, shift, noise) if s is not None else None
        _LAST["score"] = s
        return s
    quality._BlurModel.score = score


def _row(v, **kw):
    cand = _LAST.pop("cand", None)
    _LAST.pop("score", None)
    return {**kw, "blur": v.checks["blur"].score, "other": sorted(set(v.faults) - {"blur"}), "cand": cand}


def dump(path, seeds, video, names=PHOTOS, photos=True, same_size=True) -> None:
    _wrap()
    rows = []
    clip_refs = clip_references if same_size else (lambda n, rate: references_for(load_photo(n)))
    for seed in seeds if photos else ():
        refs, samples = photo_set(names, good_per_photo=24, seed=seed, camera_per_photo=12, covers_per_photo=6,
                                  defocus_per_photo=6, casts_per_photo=12)
        analyzers: dict = {}
        for s in samples:
            if s.label not in ("good", "blur"):
                continue
            if s.scene not in analyzers:
                analyzers[s.scene] = Analyzer([Reference.from_image(img, f"{s.scene}-{i}")
                                               for i, img in enumerate(refs[s.scene])])
            a = analyzers[s.scene]
            a.reset()
            for img, t, ts in s.frames:
                _LAST.clear()
                v = a.analyze(img, t=t, source_ts=ts)
            rows.append(_row(v, src="photo", seed=seed, scene=s.scene, label=s.label, level=s.level,
                             note=s.note, crf=0))
        print("seed", seed, len(rows), flush=True)
    for seed in seeds[:video]:
        analyzers = {}
        for c in video_set(names, seed=seed):
            if c.label not in ("good", "blur"):
                continue
            if (c.scene, c.rate) not in analyzers:
                analyzers[(c.scene, c.rate)] = Analyzer([Reference.from_image(img, f"{c.scene}-{i}")
                                               for i, img in enumerate(clip_refs(c.scene, c.rate))])
            a = analyzers[(c.scene, c.rate)]
            a.reset()
            gop = 0
            for i, (img, t, ts, key) in enumerate(c.frames):
                gop += key
                _LAST.clear()
                v = a.analyze(img, t=t, source_ts=ts, keyframe=key, gop=gop)
                rows.append(_row(v, src="clip", seed=seed, scene=c.scene, label=c.label, level=c.level,
                                 note=c.note, crf=c.rate, i=i))
        print("clips", seed, len(rows), flush=True)
    with open(path, "wb") as fh:
        pickle.dump(rows, fh)


def _gain(c, key):
    """Fine gain / coarse gain of candidate ``key`` over the blocks that still show the reference."""
    s = c["same"]
    fc, fe = c[key]
    cg = c["cross"][s].sum() / max(c["coarse_energy"][s].sum(), 1e-6)
    return None if cg <= 0 else float(fc[s].sum() / max(fe[s].sum(), 1e-6)) / cg


def _grad(c, share, fine, coarse):
    """The gradient at sigma ``fine`` over ``coarse`` at the reference's strongest edges, the frame's
    over the reference's."""
    d = c[("grad", share)]
    (ff, fr), (cf, cr) = d[fine], d[coarse]
    return None if fr <= 0 or cf <= 0 else (ff / fr) / (cf / cr)


def evaluate(rows) -> None:
    good = [r for r in rows if r["label"] == "good"]
    blur = [r for r in rows if r["label"] == "blur"]
    cands = {f"fine band {n} {FINES[n]}, strongest {share:g}": (lambda c, k=(n, share): _gain(c, k))
             for n in FINES for share in EDGE_SHARES}
    cands.update({f"gradient {f:g} / {g:g} at the strongest {share:g}": (lambda c, a=(share, f, g): _grad(c, *a))
                  for share in (0.05, 0.02) for f, g in ((0.5, 1.0), (0.5, 1.5), (1.0, 1.5))})
    for name, fn in cands.items():
        score = {id(r): (fn(r["cand"]) if r["cand"] is not None else None) for r in good + blur}
        print(name)
        for thr in np.arange(0.80, 0.95, 0.01):
            def blurred(r):     # not aligned: the fallback's verdict, as the analyzer gave it
                s = score[id(r)]
                return r["blur"] < quality.THRESHOLDS["blur"][0] if s is None else s < thr
            alarmed = collections.Counter(r["src"] for r in good if r["other"] or blurred(r))
            found = collections.defaultdict(lambda: [0, 0])
            for r in blur:
                f = found[(r["src"], r["note"] or f"gauss {r['level']}", r["crf"])]
                f[0] += 1
                f[1] += blurred(r)
            print(f"  {thr:.2f}: good alarmed {dict(alarmed)}; found " +
                  ", ".join(f"{k[1]} {k[2] or ''} {v[1] / v[0]:.2f}" for k, v in sorted(found.items())))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump")
    ap.add_argument("--load")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--video", type=int, default=1)
    ap.add_argument("--photos", default=",".join(PHOTOS))
    ap.add_argument("--clips-only", action="store_true")
    ap.add_argument("--photo-refs", action="store_true", help="clips judged against the photographs' references")
    args = ap.parse_args(argv)
    if args.dump:
        dump(args.dump, [int(x) for x in args.seeds.split(",")], args.video, args.photos.split(","),
             not args.clips_only, not args.photo_refs)
    if args.load:
        with open(args.load, "rb") as fh:
            evaluate(pickle.load(fh))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
