"""``vks-room check-frame`` and ``vks-room reference``: the picture checks from a shell.

``check-frame PATH [--reference REF]... [--json]`` judges an image or a video file. The
JSON form is a stable contract scripts rely on::

    {"verdict": "ok"|"fault", "faults": [...],
     "checks": {NAME: {"ok": bool, "score": float, "threshold": float}}}

Exit 0 ok, 1 fault, 2 unreadable input or usage error. REF is an image or a directory of
images (for example a preset's folder in the reference store).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from vksroom.drivers.video.cv import cv2

from vksroom.drivers.errors import DeviceError, TransportError, UsageError
from vksroom.drivers.video.quality import BAD_BELOW, CHECKS, Analyzer, BadFrame, Check, Reference, Verdict

from vksroom.drivers.video.commands import DEFAULT_DATA_DIR  # noqa: F401  (the commands' default)


def load_references(specs) -> list[Reference]:
    refs = []
    for spec in specs or ():
        p = Path(spec)
        files = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith(".")
                       and q.suffix.lower() != ".json") if p.is_dir() else [p]
        if not files:
            raise BadFrame(f"reference {spec}: no images in this folder")
        for f in files:
            img = cv2.imread(str(f), cv2.IMREAD_UNCHANGED) if f.is_file() else None
            if img is None:
                raise BadFrame(f"reference {f}: not a readable image")
            try:
                refs.append(Reference.from_image(img, f.stem))
            except BadFrame as exc:
                raise BadFrame(f"reference {f}: {exc}") from None
    return refs


def worst(verdicts: list[Verdict]) -> Verdict:
    """One verdict for a clip: each check's worst score over the analysed frames."""
    if len(verdicts) == 1:
        return verdicts[0]
    checks = {}
    for name in CHECKS:
        cs = [v.checks[name] for v in verdicts]
        pick = min if name in BAD_BELOW else max
        w = pick(cs, key=lambda c: c.score)
        checks[name] = Check(name, all(c.ok for c in cs), w.score, w.threshold)
    return Verdict(checks, reference=verdicts[-1].reference)


def check_path(path: str, references=(), rate_hz: float = 2.0, max_seconds: float = 30.0) -> Verdict:
    from vksroom.drivers.video.capture import read_file_frames

    frames = read_file_frames(path, rate_hz, max_seconds, coding=True)
    analyzer = Analyzer(references)
    return worst([analyzer.analyze(img, t=t, source_ts=ts, keyframe=key, gop=gop) for img, t, ts, key, gop in frames])


def cmd_check_frame(args) -> int:
    if args.rate <= 0 or args.seconds <= 0:
        raise UsageError("--rate and --seconds must be positive")
    try:
        refs = load_references(args.reference)
        verdict = check_path(args.path, refs, args.rate, args.seconds)
    except BadFrame as exc:
        print(f"vks-room check-frame: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(verdict.to_dict()))
    else:
        print(f"{args.path}: {'OK' if verdict.ok else 'FAULT: ' + ', '.join(verdict.faults)}"
              + (f" (against {len(refs)} reference(s))" if refs else " (no reference: defaults)"))
        for name, c in verdict.checks.items():
            side = ">=" if name in BAD_BELOW else ("<" if name == "frozen" else "<=")
            print(f"  {name:12s} {'ok   ' if c.ok else 'FAULT'} score {c.score:10.4f}  (ok when {side} {c.threshold:g})")
    return 0 if verdict.ok else 1


def _grab(source: str, timeout: float):
    if os.path.isfile(source):
        img = cv2.imread(source, cv2.IMREAD_UNCHANGED)
        if img is None:
            from vksroom.drivers.video.capture import read_file_frames

            img = read_file_frames(source, 1.0, 1.0)[0][0]
        return img
    from vksroom.drivers.video.capture import VideoSource

    with VideoSource(source, open_timeout_s=timeout, read_timeout_s=timeout) as src:
        return src.grab(timeout).image


def cmd_reference_add(args) -> int:
    from vksroom.drivers.video.references import ReferenceStore

    try:
        img = _grab(args.source, args.timeout)
        verdict = Analyzer().analyze(img)
        bad = [n for n in ("black", "dark", "blur") if not verdict.checks[n].ok]
        if bad and not args.force:
            print(f"vks-room reference: not stored, the picture looks {', '.join(bad)} "
                  "(use --force to store it anyway)", file=sys.stderr)
            return 1
        path = ReferenceStore(args.data_dir).add(args.camera, args.preset, img, args.label, args.source)
    except (BadFrame, TransportError) as exc:
        print(f"vks-room reference: {exc}", file=sys.stderr)
        return 2
    except DeviceError as exc:
        print(f"vks-room reference: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:       # ConfigError: bad camera/preset/label name
        raise UsageError(str(exc)) from None
    print(f"stored {path}")
    return 0


def cmd_reference_list(args) -> int:
    from vksroom.drivers.video.references import ReferenceStore

    try:
        rows = ReferenceStore(args.data_dir).list(args.camera)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(rows))
    for r in rows if not args.json else ():
        print(f"{r['camera']:12s} {r['preset']:8s} {r.get('label', ''):10s} {r['path']}")
    return 0
