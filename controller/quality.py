"""Link quality during a call (rule item 22): the limits a call's figures are judged against,
the judgement as check results the degradation watch times, and the figures kept over the
call for the record, the panel's graphs and the readiness sent to the centre.

The limits live in the room config's ``[lifecycle.quality]`` over :data:`DEFAULTS`; each
figure has a limit and a duration it must last past before a break is recommended (the
durations are those of the degradation watch, measured on the room's clock). The sources of
the defaults are in docs/call-quality.md.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from vksroom.controller.model import CheckResult

DEFAULTS: dict[str, float] = {
    "poll_s": 5.0,             # Cisco media statistics cover 5 s intervals
    "rx_loss_pct": 2.0,        # received packet loss above this...
    "loss_s": 15.0,            # ...for this long (Teams' targets are judged over 15 s windows)
    "jitter_ms": 50.0,         # ITU-T Y.1541 classes 0-1 IP delay variation bound
    "jitter_s": 15.0,
    "min_fps": 10.0,           # the far picture below this frame rate...
    "fps_s": 20.0,
    "min_rate_ratio": 0.5,     # received bit rate below half the negotiated rate
    "rate_s": 20.0,
    "sound_s": 10.0,           # no incoming audio packets (the far side's sound lost)
    "far_silence_s": 20.0,     # the DSP channel carrying the codec's return audio silent
    "far_silence_db": -60.0,   # ...below this level
    "picture_s": 20.0,         # the far picture black, frozen, blurred or blocky
    "blockiness": 1.7,         # the far picture in blocks above this (drivers/video/blocky.py)
    "publish_s": 30.0,         # call quality in the readiness to the centre at most this often
}
HISTORY = 720                  # samples kept per call for the graphs (an hour at 5 s)

# check name -> (the figure judged, the limit's key, the duration's key, code)
CHECKS = {
    "quality.loss": ("rx_loss_pct", "rx_loss_pct", "loss_s", "call.quality.loss"),
    "quality.jitter": ("jitter_ms", "jitter_ms", "jitter_s", "call.quality.jitter"),
    "quality.fps": ("rx_fps", "min_fps", "fps_s", "call.quality.fps"),
    "quality.rate": ("rate_ratio", "min_rate_ratio", "rate_s", "call.quality.rate"),
    "quality.sound": ("rx_audio", None, "sound_s", "call.quality.sound"),
}
FAR_DURATION = {"far.sound": "far_silence_s"}      # far.picture.* checks last "picture_s"


def check_config(table: dict, path: str = "lifecycle.quality") -> list[tuple[str, str]]:
    """The ``[lifecycle.quality]`` table's faults as (key path, message)."""
    out = []
    for key, value in table.items():
        if key not in DEFAULTS:
            out.append((f"{path}.{key}", f"unknown key (use {', '.join(DEFAULTS)})"))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            out.append((f"{path}.{key}", f"must be a number, got {value!r}"))
        elif key != "far_silence_db" and value <= 0 or key == "far_silence_db" and value >= 0:
            out.append((f"{path}.{key}", f"must be > 0, got {value!r}"))
        elif (key == "rx_loss_pct" and value > 100) or (key == "min_rate_ratio" and value > 1):
            out.append((f"{path}.{key}", f"out of range, got {value!r}"))
    return out


def limits(table: dict | None) -> dict[str, float]:
    return {**DEFAULTS, **(table or {})}


def duration(lim: dict, check: str) -> float | None:
    """How long a failing ``check`` must last before it counts; None for a check not ours."""
    if check in CHECKS:
        return float(lim[CHECKS[check][2]])
    if check in FAR_DURATION:
        return float(lim[FAR_DURATION[check]])
    if check.startswith("far.picture."):
        return float(lim["picture_s"])
    return None


def judge(device_id: str, label, q: dict, lim: dict) -> list[CheckResult]:
    """One reading of a call's figures as check results; a figure the codec does not report
    is not judged. ``value`` carries every figure of the reading (the evidence)."""
    params = {"device": label} if label else {}
    out = []
    for check, (figure, limit_key, _, code) in CHECKS.items():
        value = q.get(figure)
        if value is None:
            continue
        if figure == "rx_audio":
            ok, extra = bool(value), {}
        else:
            limit = lim[limit_key]
            ok = value <= limit if figure in ("rx_loss_pct", "jitter_ms") else value >= limit
            extra = {figure: round(float(value), 2), "limit": limit}
        out.append(CheckResult(device_id, check, ok, "", dict(q), code if not ok else "call.quality.ok",
                               {**params, **extra}, detail="" if ok else f"{figure}={value}"))
    return out


def worst(readings: list[dict]) -> dict | None:
    """The worst of several readings (a test call's): most loss and jitter, least frame rate,
    bit rate and sound; None for none. What a test session keeps as evidence."""
    if not readings:
        return None

    def pick(key, fn):
        vals = [r[key] for r in readings if r.get(key) is not None]
        return fn(vals) if vals else None

    out = {"readings": len(readings), "rx_loss_pct": pick("rx_loss_pct", max), "tx_loss_pct": pick("tx_loss_pct", max),
           "jitter_ms": pick("jitter_ms", max), "rx_fps": pick("rx_fps", min), "rate_ratio": pick("rate_ratio", min),
           "rx_audio": pick("rx_audio", all), "negotiated_kbps": pick("negotiated_kbps", max)}
    sizes = [(r["rx_width"], r["rx_height"]) for r in readings if r.get("rx_width") and r.get("rx_height")]
    out["rx_size"] = "%dx%d" % min(sizes, key=lambda wh: wh[0] * wh[1]) if sizes else None
    return out


FAR_PICTURE_CHECKS = {"black": "call.far_picture.black", "frozen": "call.far_picture.frozen",
                      "blur": "call.far_picture.blur"}


def far_picture_results(device_id: str, label, verdict, blockiness: float | None, lim: dict) -> list[CheckResult]:
    """A frame of the codec's far-end output judged: black, frozen, blurred (the cameras'
    checks) and in blocks. Blockiness is not judged on a black picture (no steps to see)."""
    params = {"device": label} if label else {}
    out = []
    for name, code in FAR_PICTURE_CHECKS.items():
        c = verdict.checks.get(name)
        if c is not None:
            out.append(CheckResult(device_id, f"far.picture.{name}", c.ok, "", round(float(c.score), 3),
                                   "call.far_picture.ok" if c.ok else code, params))
    black = verdict.checks.get("black")
    if blockiness is not None and (black is None or black.ok):
        ok = blockiness < lim["blockiness"]
        out.append(CheckResult(device_id, "far.picture.blocky", ok, "", blockiness,
                               "call.far_picture.ok" if ok else "call.far_picture.blocky", params))
    return out


def far_sound_result(device_id: str, label, level_db: float | None, lim: dict) -> CheckResult | None:
    """The DSP channel carrying the codec's return audio: silent below ``far_silence_db``."""
    if level_db is None:
        return None
    ok = level_db > lim["far_silence_db"]
    return CheckResult(device_id, "far.sound", ok, "", level_db, "call.far_sound.ok" if ok else "call.far_sound.silent",
                       {"device": label, "level_db": round(level_db, 1)} if label else {"level_db": round(level_db, 1)})


def far_audio_channels(cfg) -> dict[str, list[tuple[str, str]]]:
    """DSP id -> [(codec id, channel name)] for each codec whose ``far_audio`` names ``dsp.channel``."""
    out: dict[str, list[tuple[str, str]]] = {}
    for codec in cfg.devices_of("codec"):
        ref = codec.options.get("far_audio")
        if ref:
            dsp, _, channel = ref.partition(".")
            out.setdefault(dsp, []).append((codec.id, channel))
    return out


class QualityLog:
    """The latest figures and the series of one call per codec (thread-safe; readers get copies)."""

    def __init__(self, table: dict | None = None):
        self.limits = limits(table)
        self._lock = threading.Lock()
        self._latest: dict[str, dict] = {}
        self._series: dict[str, deque] = {}
        self._published = 0.0

    def add(self, device: str, q: dict) -> bool:
        """Keep a reading; True when it is the first of a new call."""
        with self._lock:
            old = self._latest.get(device)
            new_call = old is None or old.get("call_id") != q.get("call_id")
            if new_call:
                self._series[device] = deque(maxlen=HISTORY)
            self._latest[device] = dict(q)
            self._series[device].append((q.get("at") or time.time(), q.get("rx_loss_pct"), q.get("rx_fps")))
            return new_call

    def latest(self) -> dict[str, dict]:
        with self._lock:
            return {d: dict(q) for d, q in self._latest.items()}

    def series(self, device: str) -> list[tuple]:
        with self._lock:
            return list(self._series.get(device, ()))

    def clear(self) -> None:
        with self._lock:
            self._latest.clear()
            self._series.clear()

    def due(self, now: float) -> bool:
        """Whether call quality may go to the centre again (at most every ``publish_s``)."""
        with self._lock:
            if now - self._published < self.limits["publish_s"]:
                return False
            self._published = now
            return True
