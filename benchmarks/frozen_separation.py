"""Can the pixels, or the bitstream, tell a frozen source through x264 at constant quality from a live still room?

Measured on the TUNING set's H.264 clips only (hil.faults.video_set; never the validation
set): per CRF and kind of clip, features of the change at the first keyframe after the
start (against the frame before it) and of the P-frames on either side, on the analysis
grey the freeze check compares (drivers/video/quality.py); then what the coded file says
(``bitstream``: packet bytes from ffprobe, each macroblock's quantiser and type from the
H.264 decoder's ``-debug qp+mb_type``, the decoded luma): how many macroblocks the P-frames
code, their quantisers against the keyframe's, the two keyframes macroblock by macroblock
(at equal quantiser a frozen source's should be the same bits) and the keyframe against the
previous one coded again at its quantiser. Prints min / 10th percentile / median / 90th
percentile / max, then how many clips a candidate keyframe-bridging rule would carry across
the keyframe (a good still room carried across is a false "frozen"), the P-frames that code
no macroblock, the frozen clips a threshold just under every good clip would find, and
what a threshold set by the still rooms of about the same quantiser would call frozen.
Figures and their reading: docs/frame-quality.md, "Frozen".

    .venv/bin/python benchmarks/frozen_separation.py [--seeds 0,1]    (about 12 min on 2 shared cores)
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess

import numpy as np

from vksroom.drivers.video.cv import cv2
from vksroom.drivers.video.quality import features
from vksroom.hil.faults import video_set

_LINE = re.compile(r"^\[h264 @ (0x[0-9a-f]+)\] (.*)$")     # the H.264 decoder's -debug lines


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


def bitstream(path: str) -> dict:
    """What the coded file says per frame: packet bytes and keyframe flag (ffprobe), the
    macroblocks' quantisers and types (the H.264 decoder's ``-debug qp+mb_type``) and the
    decoded luma planes."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "packet=size,flags:stream=width,height", "-of", "json", path],
                         capture_output=True, text=True, check=True).stdout
    info = json.loads(out)
    w, h = info["streams"][0]["width"], info["streams"][0]["height"]
    sizes = [int(p["size"]) for p in info["packets"]]
    keys = [p["flags"].startswith("K") for p in info["packets"]]
    mw, mh = (w + 15) // 16, (h + 15) // 16
    run = subprocess.run(["ffmpeg", "-hide_banner", "-threads", "1", "-debug", "qp+mb_type", "-i", path,
                          "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"], capture_output=True, check=True)
    frames = collections.defaultdict(list)      # decoder instance -> [(type, rows)]
    for line in run.stderr.decode(errors="replace").splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        ctx, text = m.groups()
        if text.startswith("New frame, type: "):
            frames[ctx].append((text[-1], []))
        elif frames[ctx] and len(frames[ctx][-1][1]) < mh and len(text) >= 5 * mw and text[:2].strip().isdigit():
            frames[ctx][-1][1].append(text[:5 * mw])
    decoded = max(frames.values(), key=len)     # not the stream probe's one-frame decoder
    qp = np.array([[[int(r[5 * i:5 * i + 2]) for i in range(mw)] for r in rows] for _, rows in decoded])
    mb = np.array([[[r[5 * i + 2] for i in range(mw)] for r in rows] for _, rows in decoded])
    n = w * h * 3 // 2
    raw = np.frombuffer(run.stdout, np.uint8)
    ys = [raw[i * n:i * n + w * h].reshape(h, w) for i in range(len(raw) // n)]
    return {"size": sizes, "key": keys, "qp": qp, "mb": mb, "y": ys, "mbs": mw * mh,
            "yuv": [raw[i * n:(i + 1) * n].tobytes() for i in range(len(raw) // n)]}


def _requantised(yuv: bytes, shape, qp: int) -> np.ndarray:
    """The luma of a decoded yuv420p picture coded again as a keyframe by the same x264 at quantiser ``qp``."""
    h, w = shape
    coded = subprocess.run(["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-i", "-",
                            "-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-qp", str(qp), "-f", "h264", "-"],
                           input=yuv, capture_output=True, check=True).stdout
    raw = subprocess.run(["ffmpeg", "-v", "error", "-f", "h264", "-i", "-", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                         input=coded, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8)[:w * h].reshape(h, w)


def _coding(b: dict, k: int) -> dict:
    """Bitstream features round the first keyframe ``k`` after the start (``b``: bitstream())."""
    coded = b["mb"] != "S"
    def qp(i):      # the quantiser of the macroblocks coded (a skipped one carries its neighbour's)
        return float(b["qp"][i][coded[i]].mean()) if coded[i].any() else np.nan
    def mean(v):
        v = [x for x in v if np.isfinite(x)]
        return float(np.mean(v)) if v else np.nan
    ps = [i for i in range(1, k)]
    r = {
        "P before key: coded MB share": float(coded[k - 1].mean()),
        "P before key: bytes per 100 MB": 100 * b["size"][k - 1] / b["mbs"],
        "P after key: coded MB share": float(coded[k + 1:].mean()) if k + 1 < len(coded) else np.nan,
        "P before key: QP - key QP": mean([qp(i) for i in ps]) - qp(0),
        "P after key: QP - key QP": mean([qp(i) for i in range(k + 1, len(coded))]) - qp(k),
        "first key: mean QP": qp(0),
        "key QP - previous key QP": qp(k) - qp(0),
        "key bytes / previous key bytes": b["size"][k] / b["size"][0],
    }
    same_qp = b["qp"][k] == b["qp"][0]
    y0, y1 = b["y"][0], b["y"][k]
    mh, mw = same_qp.shape
    h, w = y0.shape
    blocks = np.zeros_like(same_qp)
    for j in range(mh):
        for i in range(mw):
            blocks[j, i] = np.array_equal(y0[16 * j:16 * j + 16, 16 * i:16 * i + 16], y1[16 * j:16 * j + 16, 16 * i:16 * i + 16])
    r["keys: MB share at equal QP"] = float(same_qp.mean())
    r["keys: identical MB share at equal QP"] = float(blocks[same_qp].mean()) if same_qp.any() else np.nan
    r["keys: identical MB share"] = float(blocks.mean())
    # a frozen source's keyframe is the same picture quantised again: is it nearer to the previous
    # keyframe quantised again at its quantiser than to the previous keyframe itself?
    again = _requantised(b["yuv"][0], y0.shape, int(round(b["qp"][k].mean())))
    r["keys: |key - previous requantised| / |key - previous|"] = (
        float(np.abs(y1.astype(np.int16) - again).mean()) / max(float(np.abs(y1.astype(np.int16) - y0).mean()), 1e-6))
    # a P-frame that codes no macroblock at all repeats its reference exactly
    r["skip-only P-frames"] = [i for i in range(1, len(coded)) if not b["key"][i] and not coded[i].any()]
    return r


def measure(seeds) -> list[dict]:
    rows = []
    for seed in seeds:
        for c in video_set(seed=seed, probe=bitstream):
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
            r.update(_coding(c.coded, k))
            # the same through the product's reader: a decoded P-frame equal to the one before
            r["P-frames"] = [i for i in range(1, len(keys)) if not keys[i]]
            r["repeated P-frames"] = [i for i in r["P-frames"] if np.array_equal(c.frames[i][0], c.frames[i - 1][0])]
            r["key"] = k
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
    lists = ("skip-only P-frames", "P-frames", "repeated P-frames", "key")
    for col in [k for k in rows[0] if k not in ("kind", "note", "rate", "scene") + lists]:
        print(f"\n{col}")
        for (rate, kind, note), rs in sorted(groups.items()):
            v = np.array([r[col] for r in rs if col in r and np.isfinite(r[col])])
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
    print("\nP-frames that code no macroblock (bitstream) / decoded exactly as the frame before (the product's "
          "reader), before and after the keyframe; clips with one before the keyframe:")
    for (rate, kind, note), rs in sorted(groups.items()):
        cells = []
        for col in ("skip-only P-frames", "repeated P-frames"):
            for side, inside in (("before", lambda i, r: i < r["key"]), ("after", lambda i, r: i > r["key"])):
                n = sum(sum(inside(i, r) for i in r["P-frames"]) for r in rs)
                cells.append(f"{side} {sum(sum(inside(i, r) for i in r[col]) for r in rs):3d}/{n:3d}")
            cells.append(f"clips {sum(any(i < r['key'] for i in r[col]) for r in rs):2d}/{len(rs)}")
        print(f"  CRF {rate} {kind:8s} {note:22s} skip-only: {' '.join(cells[:3])}   repeated: {' '.join(cells[3:])}")
    print("\nthe last P-frame before the keyframe coded below every good clip's (per CRF: as if the "
          "product knew the encoder's quality from the stream's quantisers; all CRF: one threshold):")
    for col in ("P before key: bytes per 100 MB", "P before key: coded MB share"):
        for rates in ((23,), (28,), (33,), (23, 28, 33)):
            good = [r[col] for r in rows if r["rate"] in rates and r["kind"] == "good"]
            t = min(good)
            print(f"  {col:32s} CRF {'/'.join(map(str, rates)):8s} threshold {t:8.4f} (good clip {min(rows, key=lambda r: r[col] if r['rate'] in rates and r['kind'] == 'good' else np.inf)['note']}): "
                  + "  ".join(f"{kind} {sum(r[col] < t for r in rows if r['rate'] in rates and r['kind'] == kind)}"
                              f"/{sum(r['rate'] in rates and r['kind'] == kind for r in rows)}" for kind in ("frozen 1", "frozen 2")))
    # the product does not know the CRF, but a reader that passed the quantisers would know the
    # stream's: compare with the still rooms whose first keyframe has about the same quantiser
    col = "P before key: coded MB share"
    still = [r for r in rows if r["kind"] == "good" and r["note"] == "still room"]
    print(f"\n{col} below every other still room's whose first keyframe's mean QP is within 1.5 (leave one out):")
    for kind in ("frozen 1", "frozen 2", "good"):
        rs = [r for r in rows if r["kind"] == kind and (kind != "good" or r["note"] == "still room")]
        hit = sum(r[col] < min([s[col] for s in still if s is not r and abs(s["first key: mean QP"] - r["first key: mean QP"]) <= 1.5],
                               default=0) for r in rs)
        print(f"  {kind if kind != 'good' else 'still room':10s} called frozen {hit}/{len(rs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
