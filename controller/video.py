"""The camera self-test's picture check: judge a frame against the preset's references.

Called by the camera adapter after each preset recall (once the camera reports it has
stopped): ``judge_preset(...)`` for a frame in hand, ``check_preset_video(...)`` to grab
one from the camera's video URL first. Results are CheckResult values named
``video.<check>`` (and ``video.signal`` when no picture came).
"""
from __future__ import annotations

import time
from pathlib import Path

from vksroom.controller.model import CheckResult
from vksroom.drivers.errors import DeviceError
from vksroom.drivers.video.quality import BAD_BELOW, Analyzer, BadFrame
from vksroom.drivers.video.references import ReferenceStore

REASONS = {
    "blur": "picture out of focus", "dark": "picture too dark", "bright": "picture overexposed",
    "black": "black or no-signal screen", "frozen": "picture frozen", "noise": "picture noisy",
    "cast": "colour cast", "obstruction": "lens obstructed", "drift": "camera not on the preset's view",
}


def primary_checks(checks: dict) -> dict:
    """The checks worth reporting: a black picture also reads as blurred, dark and flat, a
    blurred one cannot be registered and a dark or overexposed one has no colour or texture
    to read, so their echoes are left out and the alarm names the cause."""
    if "black" in checks and not checks["black"].ok:
        return {n: c for n, c in checks.items() if n in ("black", "frozen")}
    if "blur" in checks and not checks["blur"].ok:
        checks = {n: c for n, c in checks.items() if n not in ("drift", "obstruction")}
    if any(n in checks and not checks[n].ok for n in ("dark", "bright")):
        # too dark or clipped: colour and texture cannot be told, a cast or an
        # "obstruction" (texture gone flat) reading is an echo
        checks = {n: c for n, c in checks.items() if n not in ("cast", "obstruction")}
    return checks


def judge_preset(device_id: str, preset, frame, data_dir, analyzer: Analyzer | None = None) -> list[CheckResult]:
    """One CheckResult per frame-quality check, judged against ``preset``'s references."""
    started = time.monotonic()
    refs = ReferenceStore(data_dir).load(device_id, preset) if data_dir else []
    a = analyzer or Analyzer()
    a.set_references(refs)
    try:
        verdict = a.analyze(frame)
    except BadFrame as exc:
        return [CheckResult(device_id, "video.signal", False, str(exc), None, "camera.video.bad_frame",
                            {"preset": str(preset)}, time.monotonic() - started)]
    took = time.monotonic() - started
    out = []
    for name, c in primary_checks(verdict.checks).items():
        side = ">=" if name in BAD_BELOW else "<="
        reason = "" if c.ok else f"{REASONS[name]} (preset {preset}: score {c.score:.3g}, limit {side} {c.threshold:g})"
        out.append(CheckResult(device_id, f"video.{name}", c.ok, reason, round(c.score, 4), f"camera.video.{name}",
                               {"preset": str(preset), "score": round(c.score, 4), "threshold": c.threshold,
                                "references": len(refs)}, took))
    return out


def check_preset_video(device_id: str, preset, video_url: str, data_dir, timeout: float = 5.0,
                       skip_frames: int = 1) -> list[CheckResult]:
    """Grab a frame from ``video_url`` (a fresh connection) and judge it. The first
    ``skip_frames`` frames are dropped: a stream starts with a picture already buffered."""
    from vksroom.drivers.video.capture import VideoSource

    try:
        with VideoSource(video_url, open_timeout_s=timeout, read_timeout_s=timeout, name=device_id) as src:
            for _ in range(skip_frames):
                src.grab(timeout)
            frame = src.grab(timeout).image
    except DeviceError as exc:
        return [CheckResult(device_id, "video.signal", False, f"no picture: {exc}", None, "camera.video.no_signal",
                            {"preset": str(preset), "url": video_url})]
    return [CheckResult(device_id, "video.signal", True, "", None, "camera.video.signal", {"preset": str(preset)})] \
        + judge_preset(device_id, preset, frame, Path(data_dir) if data_dir else None)
