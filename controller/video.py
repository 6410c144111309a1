"""The camera self-test's picture check: judge a frame against the preset's references.

Called by the camera adapter after each preset recall (once the camera reports it has
stopped): ``judge_preset(...)`` for a frame in hand, ``check_preset_video(...)`` to grab
one from the camera's video URL first. Results are CheckResult values named
``video.<check>`` (and ``video.signal`` when no picture came). Every one carries
``with_reference`` in its params (whether a stored reference of the preset was used),
and ``video.reference`` says it in words: ``camera.video.no_reference`` (passed, not a
fault: the technician is asked to store one) or ``camera.video.reference``.
``picture_follows(...)`` compares the frames of the whole tour: the same picture at two presets
that landed clearly apart is a frozen picture (``video.follows``: ``camera.video.frozen``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vksroom.controller.model import CheckResult
from vksroom.controller.texts import role_label
from vksroom.drivers.camera import Position
from vksroom.drivers.errors import DeviceError
from vksroom.drivers.video.quality import BAD_BELOW, Analyzer, BadFrame, features, same_picture
from vksroom.drivers.video.references import ReferenceStore

# the analyzer's check -> what the room says of it (controller/texts.py)
REASONS = {
    "blur": "camera.video.blur", "dark": "camera.video.dark", "bright": "camera.video.bright",
    "black": "camera.video.black", "frozen": "camera.video.frozen", "noise": "camera.video.noise",
    "cast": "camera.video.cast", "obstruction": "camera.video.obstruction", "drift": "camera.video.drift",
}


def video_code(name: str) -> str:
    return REASONS.get(name, "camera.video.bad_frame")


def verdict_results(device_id: str, checks: dict, params: dict, duration_s: float = 0.0,
                    with_reference: bool | None = None) -> list[CheckResult]:
    """Frame checks (the causes only, see primary_checks) as results named ``video.<check>``;
    the scores and limits are the technician's detail. ``with_reference``: whether the
    verdict was made against a stored reference (put in every result's params)."""
    if with_reference is not None:
        params = {**params, "with_reference": bool(with_reference)}
    out = []
    for name, c in primary_checks(checks).items():
        side = ">=" if name in BAD_BELOW else "<="
        out.append(CheckResult(device_id, f"video.{name}", c.ok, "", round(c.score, 4), video_code(name),
                               {**params, "score": round(c.score, 4), "threshold": c.threshold}, duration_s,
                               detail="" if c.ok else f"{name}: score {c.score:.3g}, limit {side} {c.threshold:g}"))
    return out


def primary_checks(checks: dict) -> dict:
    """The checks worth reporting: a black picture also reads as blurred, dark and flat, a
    blurred one cannot be registered and a dark or overexposed one has no colour or texture
    to read, so their echoes are left out and the alarm names the cause."""
    if "black" in checks and not checks["black"].ok:
        return {n: c for n, c in checks.items() if n in ("black", "frozen")}
    if "blur" in checks and not checks["blur"].ok:
        checks = {n: c for n, c in checks.items() if n not in ("drift", "obstruction")}
    if any(n in checks and not checks[n].ok for n in ("dark", "bright")):
        # too dark or clipped: colour, texture and focus cannot be told, a cast, an
        # "obstruction" (texture gone flat) or a blur reading is an echo
        checks = {n: c for n, c in checks.items() if n not in ("cast", "obstruction", "blur")}
    return checks


def judge_preset(device_id: str, preset, frame, data_dir, analyzer: Analyzer | None = None,
                 label: str | dict = "") -> list[CheckResult]:
    """One CheckResult per frame-quality check, judged against ``preset``'s references."""
    started = time.monotonic()
    refs = ReferenceStore(data_dir).load(device_id, preset) if data_dir else []
    a = analyzer or Analyzer()
    a.set_references(refs)
    params = _params(label, preset)
    try:
        verdict = a.analyze(frame)
    except BadFrame as exc:
        return [CheckResult(device_id, "video.signal", False, "", None, "camera.video.bad_frame", params,
                            time.monotonic() - started, detail=f"preset {preset}: {exc}")]
    params = {**params, "references": len(refs)}
    took = time.monotonic() - started
    return verdict_results(device_id, verdict.checks, params, took, with_reference=verdict.with_reference) \
        + [reference_result(device_id, params, verdict.with_reference)]


def reference_result(device_id: str, params: dict, with_reference: bool) -> CheckResult:
    """Whether the picture was judged against the preset's stored references. Not a fault
    either way; without one, the sentence asks the technician to store one (some faults,
    such as a camera aimed elsewhere, cannot be told without it)."""
    return CheckResult(device_id, "video.reference", True, "", float(params.get("references", 0)),
                       "camera.video.reference" if with_reference else "camera.video.no_reference",
                       {**params, "with_reference": bool(with_reference)})


def _params(label, preset) -> dict:
    params = {"preset": str(preset), "role": role_label(str(preset))}
    return {"device": label, **params} if label else params


def check_preset_video(device_id: str, preset, video_url: str, data_dir, timeout: float = 5.0,
                       skip_frames: int = 1, label: str | dict = "") -> list[CheckResult]:
    """Grab a frame from ``video_url`` (a fresh connection) and judge it. The first
    ``skip_frames`` frames are dropped: a stream starts with a picture already buffered."""
    return preset_video(device_id, preset, video_url, data_dir, timeout, skip_frames, label)[0]


def preset_video(device_id: str, preset, video_url: str, data_dir, timeout: float = 5.0,
                 skip_frames: int = 1, label: str | dict = "") -> tuple[list[CheckResult], Any]:
    """:func:`check_preset_video`'s results and the frame it judged (None when none came)."""
    from vksroom.drivers.video.capture import VideoSource

    try:
        with VideoSource(video_url, open_timeout_s=timeout, read_timeout_s=timeout, name=device_id) as src:
            for _ in range(skip_frames):
                src.grab(timeout)
            frame = src.grab(timeout).image
    except DeviceError as exc:
        return [CheckResult(device_id, "video.signal", False, "", None, "camera.video.no_signal",
                            _params(label, preset), detail=f"preset {preset}: no picture from {video_url}: {exc}")], None
    return [CheckResult(device_id, "video.signal", True, "", None, "camera.video.signal", _params(label, preset))] \
        + judge_preset(device_id, preset, frame, Path(data_dir) if data_dir else None, label=label), frame


# Two presets whose pan or tilt differ by this much (neutral units: 0.02 is about 3.4 degrees on
# an EVI-D70, a twentieth of its widest view), or whose zoom differs by ZOOM_APART, look at
# different pictures: a live camera cannot give the same picture at both.
APART = 0.02
ZOOM_APART = 0.1
# A picture that shows nothing (black, the lens covered) is alike anywhere: it says no more.
BLIND = ("video.black", "video.obstruction")


@dataclass(frozen=True)
class Shot:
    """The frame the self-test grabbed once a preset had landed, and where it landed."""

    role: str
    preset: int
    where: Position
    frame: Any                # the frame, or (Shot.of) its analysis grey: small, kept over the tour
    judged: tuple = ()        # the frame's own results (its blind ones keep it out)

    @classmethod
    def of(cls, role: str, preset: int, where: Position, frame, judged=()) -> "Shot | None":
        """None for a frame that cannot be read (its own result says so already)."""
        try:
            return cls(role, preset, where, features(frame).grey, tuple(judged))
        except BadFrame:
            return None


def _apart(a: Position, b: Position, tolerance: float) -> bool:
    return a.distance(b) > max(APART, tolerance) or abs(a.zoom - b.zoom) > ZOOM_APART


def _usable(shot: Shot) -> bool:
    return shot.frame is not None and not any(r.check.endswith(BLIND) and not r.ok for r in shot.judged)


def _comparable(a: Shot, b: Shot, tolerance: float) -> bool:
    return _usable(a) and _usable(b) and a.preset != b.preset and _apart(a.where, b.where, tolerance)


def held_like(earlier, shot: Shot, tolerance: float = 0.0) -> Shot | None:
    """The earlier shot, landed clearly apart from ``shot``, whose picture ``shot`` shows (also a
    held picture an H.264 encoder coded again: views this far apart cannot be alike); None."""
    for e in earlier:
        if _comparable(e, shot, tolerance) and same_picture(e.frame, shot.frame, recoded=True):
            return e
    return None


def picture_follows(device_id: str, shots, tolerance: float = 0.0, label: str | dict = "") -> CheckResult | None:
    """Whether the picture followed the camera over the self-test's tour: a shot whose picture is
    an earlier one's (:func:`held_like`) is a frozen picture (``camera.video.frozen``, found at
    the later preset; the detail names both and where they landed). None when no two shots
    apart could be compared: it cannot be told."""
    shots = list(shots)
    compared = sum(_comparable(a, b, tolerance) for i, b in enumerate(shots) for a in shots[:i])
    if not compared:
        return None
    for i, later in enumerate(shots):
        earlier = held_like(shots[:i], later, tolerance)
        if earlier is not None:
            return CheckResult(device_id, "video.follows", False, "", None, "camera.video.frozen",
                               _params(label, later.role),
                               detail=f"preset {later.preset} ({later.role}) at {_at(later.where)} shows the "
                                      f"same picture as preset {earlier.preset} ({earlier.role}) at "
                                      f"{_at(earlier.where)}: the picture does not follow the camera")
    return CheckResult(device_id, "video.follows", True, "", float(compared), "camera.video.follows",
                       {"device": label} if label else {}, detail=f"{compared} pairs of presets apart compared")


# A frame that shows an earlier preset's picture may be late: a camera's stream lags the
# landing by a few frames. Up to this many frames are read again before it counts as held.
LOOK_AGAIN_FRAMES = 25


def look_again(device_id: str, video_url: str, like, frames: int = LOOK_AGAIN_FRAMES, timeout: float = 5.0):
    """Frames from a fresh connection until one is not ``like``'s picture (the stream had lagged
    the landing) or ``frames`` have come (it is held): that frame; None when no picture came."""
    from vksroom.drivers.video.capture import VideoSource

    frame = None
    try:
        with VideoSource(video_url, open_timeout_s=timeout, read_timeout_s=timeout, name=device_id) as src:
            for _ in range(frames):
                frame = src.grab(timeout).image
                if not same_picture(like, frame, recoded=True):
                    break
    except DeviceError:
        pass
    return frame


def _at(p: Position) -> str:
    return f"pan {p.pan:.4f} tilt {p.tilt:.4f} zoom {p.zoom:.4f}"
