"""The independent validation set: other photographs, a camera chain, H.264 clips; frozen.

Nothing here is used to set a threshold. The analyzer's thresholds are tuned on
scikit-image's photographs through hil/faults.py (the tuning set); this set is made from
real photographs that ship inside *other* packages on PyPI, with its own code for the
camera and for the faults, and every sample is a short H.264 clip decoded by OpenCV as
the in-hearing watch decodes a camera's stream:

    package (pinned)   photograph                       what it shows
    ultralytics        assets/bus.jpg, assets/zidane.jpg people in a street; two men, indoors
    scikit-learn       china.jpg, flower.jpg             a pagoda and trees; a dahlia (a colourful scene)
    matplotlib         grace_hopper.jpg                  a portrait, flag behind
    imgaug             quokka.jpg                        an animal in front of a plain wall
    scipy 1.9.3        misc/face.dat, misc/ascent.dat    a raccoon in leaves; a staircase (grey)
    pywavelets         data/aero.npz                     an aerial photograph (grey)

The photographs are fetched with ``pip download --no-deps`` into a cache folder (never
committed) and each is checked against its sha256 below.

The camera chain, per clip (6 frames, 0.5 s apart: what the monitor analyses at 2/s):
the view (a crop of the photograph, sub-pixel preset jitter) in linear light; the room's
lighting (full, dimmed, ramping while the lights change, daylight through a window with a
bluer colour over part of the view, and its changes); people or objects moving in front
(cut-outs of other photographs); the lens (defocus is a disk, as real defocus is); auto
exposure that follows the light with a lag and a per-camera target, exposure steps;
automatic white balance with its residual error and drift; the camera's tone curve (a
gamma and an S-curve, a highlight knee, each camera its own); sensor noise that grows
with the gain (low light is noisy); then libx264 at constant quality CRF 23, 28 or 33
(a keyframe every 2 s, no B-frames; 0.1-1.2 Mbit/s at these 2 frames a second, more for
noisy or moving pictures), decoded back. (A bit budget per frame of a 25 fps stream was
tried first: at 2 frames a second it starves the P-frames, which then skip everything.)
A still picture through the encoder: the P-frames between keyframes barely change, so a
still empty room at CRF 33 is as good as frozen to the pixels: such clips are in the set.

Faults enter where they happen: defocus and a cover over the lens before the sensor,
a stuck exposure at the sensor, a failed white balance in the camera, interference and
frozen or blank pictures after it. A cover is made like the real thing: very out of focus
(its edge spans a good part of the frame), skin (a palm, from a portrait), dark cloth or
paper, lit unevenly.

Frozen once: ``benchmarks/validation_manifest.json`` holds the sources' hashes, the
generator's seed and, per clip, its label and the sha256 of its H.264 bytes. The set is
made again from the packages with the fixed seed (cached), and a clip whose hash differs
from the manifest is reported: the set is no longer the frozen one (another FFmpeg or
OpenCV build, or a changed generator), and figures on it are not comparable.

    .venv/bin/python benchmarks/validation_set.py [--freeze] [--cache DIR]
"""
from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "validation_manifest.json"
GENERATOR = "validation-set/2"
SEED = 20240611
FRAMES, DT = 6, 0.5
FAULTS = ("blur", "dark", "bright", "black", "blue", "frozen", "noise", "cast", "obstruction", "wrong_view")
GOOD_PER_SCENE = 24
CLIPS_PER_LEVEL = 2
CONDITIONS = ("full", "dimmed", "ramp", "daylight", "exposure_step", "tone", "white_balance", "low_light")
RATES = (23, 28, 33)                   # libx264 constant quality (CRF): good, usual, starved


@dataclass(frozen=True)
class Source:
    name: str
    requirement: str          # what pip downloads
    member: str               # the file inside the wheel
    sha256: str               # of that file
    pip_args: tuple = ()


SOURCES = (
    Source("bus", "ultralytics==8.4.190", "ultralytics/assets/bus.jpg",
           "c02019c4979c191eb739ddd944445ef408dad5679acab6fd520ef9d434bfbc63"),
    Source("zidane", "ultralytics==8.4.190", "ultralytics/assets/zidane.jpg",
           "16d73869e3267a7d4ed00de8e860833bd1657c1b252e94c0c348277adc7b6edb"),
    Source("china", "scikit-learn==1.9.1", "sklearn/datasets/images/china.jpg",
           "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29"),
    Source("flower", "scikit-learn==1.9.1", "sklearn/datasets/images/flower.jpg",
           "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638"),
    Source("grace_hopper", "matplotlib==3.11.2", "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
           "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130"),
    Source("quokka", "imgaug==0.4.0", "imgaug/quokka.jpg",
           "bf1059d0f925e7d0c712cadf07a04ba4cfc98957d7be65d3a7d8ae0c464cd76e"),
    Source("raccoon", "scipy==1.9.3", "scipy/misc/face.dat",
           "9d8b0b4d081313e2b485748c770472e5a95ed1738146883d84c7030493e82886",
           ("--python-version", "3.10")),
    Source("staircase", "scipy==1.9.3", "scipy/misc/ascent.dat",
           "e8a84939484463ab8051aedc5b40aa262ab33a91d6458a6cd13c6a1cad5a023d",
           ("--python-version", "3.10")),
    Source("aerial", "pywavelets==1.9.0", "pywt/data/aero.npz",
           "df862635798bac94226b8928f224da8cef8b0d00492c1fdf48fac6dfaf97a94b"),
)

# cut-outs for people moving in front (box as shares of the photograph: x0, y0, x1, y1)
FIGURES = (("bus", (0.04, 0.36, 0.27, 0.86)), ("bus", (0.26, 0.37, 0.44, 0.80)),
           ("zidane", (0.22, 0.08, 0.58, 1.0)), ("zidane", (0.55, 0.0, 0.95, 1.0)),
           ("grace_hopper", (0.08, 0.05, 0.92, 1.0)))
SKIN = (("grace_hopper", (0.36, 0.36, 0.62, 0.52)), ("zidane", (0.30, 0.12, 0.40, 0.30)))


def default_cache() -> Path:
    return Path(os.environ.get("VKSROOM_VALIDATION_CACHE") or Path.home() / ".cache" / "vksroom" / "validation")


# ---------------------------------------------------------------- sources
def _decode(src: Source, data: bytes) -> np.ndarray:
    if src.member.endswith(".jpg"):
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    elif src.member.endswith("face.dat"):
        img = cv2.cvtColor(np.frombuffer(bz2.decompress(data), np.uint8).reshape(768, 1024, 3), cv2.COLOR_RGB2BGR)
    elif src.member.endswith("ascent.dat"):
        img = cv2.cvtColor(np.asarray(pickle.loads(data), np.uint8), cv2.COLOR_GRAY2BGR)
    elif src.member.endswith(".npz"):
        with np.load(io.BytesIO(data)) as z:
            img = cv2.cvtColor(np.asarray(z[z.files[0]], np.uint8), cv2.COLOR_GRAY2BGR)
    else:
        raise ValueError(src.member)
    return np.ascontiguousarray(img)


def fetch(cache: Path, strict: bool = True) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The photographs (BGR) by name, and each member's sha256 as found."""
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    photos, found = {}, {}
    for src in SOURCES:
        pkg, version = src.requirement.split("==")
        norm = pkg.replace("-", "_").lower()
        cands = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(f"{norm}-{version}-")]
        if not cands:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                            *src.pip_args, "-d", str(wheels), src.requirement], check=True)
            cands = [p for p in wheels.glob("*.whl") if p.name.lower().startswith(f"{norm}-{version}-")]
        with zipfile.ZipFile(sorted(cands)[0]) as z:
            data = z.read(src.member)
        digest = hashlib.sha256(data).hexdigest()
        found[src.name] = digest
        if strict and digest != src.sha256:
            raise SystemExit(f"{src.name}: {src.member} in {src.requirement} has sha256 {digest}, "
                             f"expected {src.sha256}: not the photograph this set was made from")
        photos[src.name] = _decode(src, data)
    return photos, found


# ---------------------------------------------------------------- the camera chain
def _srgb_to_linear(img8: np.ndarray) -> np.ndarray:
    return (img8.astype(np.float32) / 255.0) ** 2.2


def _size_for(photo) -> tuple[int, int]:
    h, w = photo.shape[:2]
    cw = min(w, h * 16 / 9) * 0.8
    return (960, 540) if cw >= 700 else (640, 360)


def _view(photo, size, dx=0.0, dy=0.0, zoom=1.0) -> np.ndarray:
    """The camera's view: a 16:9 crop of 80 % of the photograph, moved by dx, dy (shares of the
    crop's width) and zoomed, resampled to ``size``."""
    h, w = photo.shape[:2]
    cw = min(w, h * 16 / 9) * 0.8
    ch = cw * 9 / 16
    cw, ch = cw / zoom, ch / zoom
    x0 = (w - cw) / 2 + dx * cw * zoom
    y0 = (h - ch) / 2 + dy * cw * zoom
    x0, y0 = min(max(0.0, x0), w - cw), min(max(0.0, y0), h - ch)
    ow, oh = size
    m = np.float32([[cw / ow, 0, x0], [0, ch / oh, y0]])
    interp = cv2.INTER_AREA if cw > ow else cv2.INTER_CUBIC
    return cv2.warpAffine(photo, m, (ow, oh), flags=interp | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)


def _disk(radius: float) -> np.ndarray:
    r = max(radius, 0.5)
    n = int(math.ceil(r)) * 2 + 1
    yy, xx = np.mgrid[:n, :n] - n // 2
    k = np.clip(r + 0.5 - np.hypot(xx, yy), 0, 1).astype(np.float32)
    return k / k.sum()


def _tone(x: np.ndarray, gamma: float, s: float, knee: float) -> np.ndarray:
    """A camera's tone curve on linear light: a power (the camera's gamma), an S-curve of
    strength ``s`` and a soft knee above ``knee`` that compresses highlights; 0..1."""
    y = np.clip(x, 0, None) ** (1.0 / gamma)
    over = y > knee
    y = np.where(over, knee + (1 - knee) * (1 - np.exp(-(y - knee) / (1 - knee))), y)
    y = np.clip(y, 0, 1)
    return np.clip(y + s * y * (1 - y) * (2 * y - 1), 0, 1) if s else y


@dataclass
class Plan:
    """What one clip shows (drawn once, with the clip's own random generator)."""
    scene: str
    label: str
    level: int
    condition: str
    rate: float               # libx264 CRF
    params: dict = field(default_factory=dict)

    def key(self) -> str:
        return f"{self.scene}/{self.label}/{self.level}/{self.condition}/{self.params.get('k', 0)}"


class Chain:
    """One camera looking at one scene; renders the frames of a :class:`Plan`."""

    def __init__(self, photos: dict, scene: str):
        self.photos = photos
        self.photo = photos[scene]
        self.size = _size_for(self.photo)
        self.scene = scene

    # -- pieces
    def _figure(self, rng, src_name, box, height):
        p = self.photos[src_name]
        h, w = p.shape[:2]
        x0, y0, x1, y1 = (int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h))
        cut = p[y0:y1, x0:x1]
        scale = height / cut.shape[0]
        cut = cv2.resize(cut, (max(8, int(cut.shape[1] * scale)), max(8, int(height))), interpolation=cv2.INTER_AREA)
        mh, mw = cut.shape[:2]
        mask = np.zeros((mh, mw), np.float32)
        cv2.ellipse(mask, (mw // 2, int(mh * 0.6)), (int(mw * 0.42), int(mh * 0.62)), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.02 * mh))
        return _srgb_to_linear(cut), mask

    def _paste(self, lin, fig, mask, cx, foot):
        h, w = lin.shape[:2]
        fh, fw = mask.shape
        x0, y0 = int(cx - fw / 2), int(foot - fh)
        xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + fw), min(h, y0 + fh)
        if xa >= xb or ya >= yb:
            return
        m = mask[ya - y0: yb - y0, xa - x0: xb - x0, None]
        lin[ya:yb, xa:xb] = lin[ya:yb, xa:xb] * (1 - m) + fig[ya - y0: yb - y0, xa - x0: xb - x0] * m

    def _cover(self, rng, cover: float, kind: str):
        """An object on the lens: image (linear) and mask, very out of focus."""
        w, h = self.size
        mask = np.zeros((h, w), np.float32)
        side = int(rng.integers(0, 4))
        if side == 0:
            mask[:, : int(w * cover)] = 1
        elif side == 1:
            mask[:, w - int(w * cover):] = 1
        elif side == 2:
            mask[h - int(h * cover):, :] = 1
        else:       # a palm or finger from below, rounded
            cv2.ellipse(mask, (int(w * rng.uniform(0.3, 0.7)), h), (int(w * math.sqrt(cover) * 0.72),
                        int(h * math.sqrt(cover) * 1.3)), float(rng.uniform(-25, 25)), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), float(rng.uniform(0.05, 0.10)) * w)
        if kind == "skin":
            name, box = SKIN[int(rng.integers(0, len(SKIN)))]
            p = self.photos[name]
            ph, pw = p.shape[:2]
            patch = p[int(box[1] * ph): int(box[3] * ph), int(box[0] * pw): int(box[2] * pw)]
            img = _srgb_to_linear(cv2.resize(patch, (w, h), interpolation=cv2.INTER_CUBIC))
            img = cv2.GaussianBlur(img, (0, 0), 0.06 * w)
            light = float(rng.uniform(0.25, 0.9))
        elif kind == "cloth":
            img = np.empty((h, w, 3), np.float32)
            img[:] = (rng.uniform(0.005, 0.05, 3)).astype(np.float32)
            light = 1.0
        else:   # paper or a card
            img = np.empty((h, w, 3), np.float32)
            img[:] = (rng.uniform(0.45, 0.8) * rng.uniform(0.92, 1.0, 3)).astype(np.float32)
            light = 1.0
        yy, xx = np.mgrid[:h, :w].astype(np.float32)
        ang = rng.uniform(0, 2 * math.pi)
        ramp = 1.0 + 0.35 * ((xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang))
        return img * (light * ramp)[:, :, None], mask[:, :, None]

    # -- a clip
    def frames(self, plan: Plan, rng) -> tuple[list[np.ndarray], list[float]]:
        w, h = self.size
        p = plan.params
        lab, lvl = plan.label, plan.level
        n = FRAMES
        # preset: lands within a fraction of a pixel of the stored view
        jx, jy = rng.uniform(-0.002, 0.002, 2)
        dx, dy, zoom = jx, jy, 1.0
        if lab == "wrong_view":
            s = {1: 0.05, 2: 0.08, 3: 0.12}[lvl]
            kind = p["kind"]
            if kind == "pan":
                dx += s * p["sign"][0]
            elif kind == "pan+tilt":
                dx += 0.7 * s * p["sign"][0]
                dy += 0.7 * s * p["sign"][1]
            else:
                zoom = 1.0 + 2.5 * s
        base = _srgb_to_linear(_view(self.photo, self.size, dx, dy, zoom))
        # lighting over time
        cond = plan.condition
        light = np.full(n, p["light"], np.float32)
        if cond == "ramp":
            a, b = p["ramp"]
            light = np.geomspace(a, b, n).astype(np.float32)
        window = None
        if cond == "daylight":
            yy, xx = np.mgrid[:h, :w].astype(np.float32)
            cx, cy, r = p["window"]
            window = np.exp(-(((xx / w - cx) ** 2 + (yy / h - cy) ** 2) / (2 * r * r)))[:, :, None]
        # people moving
        figs = []
        for k in range(p["people"]):
            name, box = FIGURES[int(rng.integers(0, len(FIGURES)))]
            height = h * rng.uniform(0.35, 0.8)
            fig, mask = self._figure(rng, name, box, height)
            x0 = rng.uniform(-0.1, 1.1) * w
            v = rng.uniform(-0.08, 0.08) * w
            foot = h * rng.uniform(0.85, 1.1)
            figs.append((fig, mask, x0, v, foot))
        cover = None
        if lab == "obstruction":
            cover = self._cover(rng, {1: 0.3, 2: 0.45, 3: 0.6}[lvl], p["cover"])
        # camera
        gamma, s_curve, knee = p["tone"]
        ae_target, ae_max = p["ae"]
        wb = np.array(p["wb"], np.float32)                 # residual white balance (log, B G R)
        wb_drift = np.array(p["wb_drift"], np.float32)
        read = p["read_noise"]
        exposure = None
        out = []
        still = None
        for i in range(n):
            lin = base.copy()
            for fig, mask, x0, v, foot in figs:
                self._paste(lin, fig, mask, x0 + v * i, foot)
            illum = light[i]
            if window is not None:
                amount = p["window_gain"] * (1 + 0.3 * math.sin(i * p["cloud"]))
                tint = np.exp(np.array([0.12, 0.0, -0.12], np.float32))
                lin = lin * illum * (1 + amount * window * tint)
            else:
                lin = lin * illum
            if cover is not None:
                img, m = cover
                # the cover is lit by the room's light from the side it faces
                lin = lin * (1 - m) + img * illum * m
            if lab == "blur":
                r = {1: 1.5, 2: 2.5, 3: 4.0}[lvl] * w / 640 * 1.2
                lin = cv2.filter2D(lin, -1, _disk(r))
            # auto exposure: towards target / mean, with a lag; stuck when the fault says so
            mean = float(cv2.mean(cv2.cvtColor(lin, cv2.COLOR_BGR2GRAY))[0]) + 1e-4
            want = min(ae_target / mean, ae_max)
            exposure = want if exposure is None else exposure * (want / exposure) ** p["ae_speed"]
            e = exposure
            if cond == "exposure_step" and i >= p["step_at"]:
                e *= p["step"]
            # Exposure faults and casts are sized as in the tuning set, which sizes them in
            # 8-bit values: a factor g there is g ** 2.2 in linear light.
            if lab == "dark":       # exposure stuck 4.4, 6 or 8.4 stops below what the light needs
                e = want * {1: 0.25, 2: 0.15, 3: 0.07}[lvl] ** 2.2
            if lab == "bright":     # 2.5, 3.5 or 4.8 stops over
                e = e * {1: 2.2, 2: 3.0, 3: 4.5}[lvl] ** 2.2
            lin = lin * e
            # white balance: residual error, drifting; a failed one is the cast fault
            bal = wb + wb_drift * (i / (n - 1))
            if lab == "cast":
                bal = bal + np.array(p["cast"], np.float32)
            lin = lin * np.exp(bal)[None, None, :]
            y = _tone(lin, gamma, s_curve, knee) * 255.0
            # sensor noise: read noise and shot noise, both amplified by the gain
            gain = max(1.0, e / p["e_nominal"])
            sigma = np.sqrt(read ** 2 + 0.02 * y) * math.sqrt(gain)
            y = y + rng.standard_normal(y.shape, dtype=np.float32) * sigma
            if lab == "noise":
                y = y + rng.standard_normal(y.shape, dtype=np.float32) * {1: 10.0, 2: 16.0, 3: 25.0}[lvl]
            frame = np.clip(y + 0.5, 0, 255).astype(np.uint8)
            if lab == "black":
                v8 = {1: 16, 2: 0, 3: 4}[lvl]
                frame = np.clip(v8 + rng.standard_normal((h, w, 3), dtype=np.float32) * 1.2, 0, 255).astype(np.uint8)
            if lab == "blue":
                colour = {1: (170, 50, 0), 2: (120, 120, 120), 3: (200, 10, 10)}[lvl]
                frame = np.empty((h, w, 3), np.uint8)
                frame[:] = colour
                cv2.putText(frame, p["text"], (w // 8, h // 2), cv2.FONT_HERSHEY_DUPLEX, w / 800, (240, 240, 240),
                            2, cv2.LINE_AA)
            if lab == "frozen" and lvl in (1, 2):
                still = frame if still is None else still
                frame = still.copy()
                if lvl == 2:
                    cv2.putText(frame, f"2024-06-11 10:00:0{i}", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                                (255, 255, 255), 1, cv2.LINE_AA)
            out.append(frame)
        ts = [i * DT for i in range(n)]
        if lab == "frozen" and lvl == 3:
            ts = [0.0] * n               # the source's clock stalled; pixels still change
        return out, ts


def draw_plan(scene: str, label: str, level: int, k: int, rng, condition: str | None = None) -> Plan:
    """The random parts of one clip. Good clips get one named condition and mild others;
    faults come with ordinary lighting, people and compression too."""
    if condition is None:
        condition = CONDITIONS[int(rng.integers(0, len(CONDITIONS)))]
    p = {"k": k}
    p["light"] = float(rng.uniform(0.8, 1.2))
    if condition in ("dimmed", "low_light"):
        p["light"] = float(rng.uniform(0.3, 0.6) if condition == "dimmed" else rng.uniform(0.12, 0.25))
    if condition == "ramp":
        a, b = float(rng.uniform(0.9, 1.2)), float(rng.uniform(0.3, 0.5))
        p["ramp"] = (a, b) if rng.random() < 0.5 else (b, a)
    if condition == "daylight":
        p["window"] = (float(rng.uniform(0.0, 1.0)), float(rng.uniform(0.0, 0.6)), float(rng.uniform(0.2, 0.45)))
        p["window_gain"] = float(rng.uniform(0.5, 2.0))
        p["cloud"] = float(rng.uniform(0.5, 2.0))
    tone = (float(rng.uniform(2.0, 2.4)), 0.0, 0.9)
    if condition == "tone":
        tone = (float(rng.uniform(1.6, 3.0)), float(rng.uniform(-0.5, 0.5)), float(rng.uniform(0.7, 0.9)))
    p["tone"] = tone
    p["ae"] = (float(0.18 * math.exp(rng.uniform(-0.3, 0.3))), 8.0 if condition == "low_light" else 4.0)
    p["ae_speed"] = float(rng.uniform(0.3, 0.7))
    p["e_nominal"] = 1.5
    if condition == "exposure_step":
        p["step_at"] = int(rng.integers(1, FRAMES))
        p["step"] = float(math.exp(rng.choice([-1, 1]) * rng.uniform(0.25, 0.6)))
    # automatic white balance: its residual error per channel (log gain, linear light) and,
    # in the white_balance condition, more of it drifting during the clip
    residual = 0.15 if condition == "white_balance" else 0.08
    p["wb"] = [float(x) for x in rng.uniform(-residual, residual, 3)]
    p["wb_drift"] = [float(x) for x in (rng.uniform(-0.08, 0.08, 3) if condition == "white_balance" else (0, 0, 0))]
    p["read_noise"] = float(rng.uniform(0.6, 1.4))
    p["people"] = int(rng.integers(0, 3)) if label == "good" else int(rng.integers(0, 2))
    if label == "wrong_view":
        p["kind"] = ["pan", "pan+tilt", "zoom"][int(rng.integers(0, 3))]
        p["sign"] = [int(x) for x in rng.choice([-1, 1], 2)]
    if label == "cast":
        s = {1: 0.4, 2: 0.6, 3: 0.9}[level] * 2.2       # log gain in linear light (0.4 ... in 8-bit)
        d = int(rng.integers(0, 4))
        p["cast"] = [[s / 2, 0, -s / 2], [-s / 2, 0, s / 2], [-s / 2, s / 2, -s / 2], [s / 2, -s / 2, s / 2]][d]
        p["cast_kind"] = ["cold", "warm", "green", "magenta"][d]
    if label == "obstruction":
        p["cover"] = ["skin", "skin", "cloth", "paper"][int(rng.integers(0, 4))]
    if label == "blue":
        p["text"] = ["NO SIGNAL", "HDMI 1", "Searching..."][int(rng.integers(0, 3))]
    if label == "bright" or label == "dark":
        p["light"] = float(rng.uniform(0.9, 1.1))
    rate = RATES[int(rng.integers(0, len(RATES)))]
    return Plan(scene, label, level, condition if label == "good" else "mixed", rate, p)


def encode(frames, rate: float, size) -> bytes:
    """libx264 at constant quality ``rate`` (CRF), one thread: the same bytes every time
    on the same build."""
    w, h = size
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
               "-r", str(int(1 / DT)), "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-threads", "1",
               "-crf", str(int(rate)), "-g", "4", "-bf", "0", "-pix_fmt", "yuv420p",
               "-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1", str(path)]
        subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), check=True, timeout=120)
        return path.read_bytes()


def decode(data: bytes) -> list[np.ndarray]:
    return decode_with_types(data)[0]


def decode_with_types(data: bytes) -> tuple[list[np.ndarray], list[bool]]:
    """The frames and, per frame, whether the decoder called it a keyframe (as the
    product's reader tells the analyzer)."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(data)
        f.flush()
        cap = cv2.VideoCapture(f.name, cv2.CAP_FFMPEG)
        out, keys = [], []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            out.append(img)
            keys.append(cap.get(cv2.CAP_PROP_FRAME_TYPE) == ord("I"))
        cap.release()
    return out, keys


@dataclass
class Clip:
    plan: Plan
    frames: list            # decoded BGR
    ts: list                # source timestamps
    sha256: str
    keyframes: list = field(default_factory=list)   # per frame: a keyframe (decoder's frame type)


def plans(photos) -> list[Plan]:
    out = []
    for si, scene in enumerate(photos):
        rng = np.random.default_rng([SEED, si])
        for k in range(GOOD_PER_SCENE):
            out.append(draw_plan(scene, "good", 0, k, rng, CONDITIONS[k % len(CONDITIONS)]))
        for fault in FAULTS:
            for level in (1, 2, 3):
                for k in range(CLIPS_PER_LEVEL):
                    out.append(draw_plan(scene, fault, level, k, rng))
    return out


def reference_plans(scene: str) -> dict[str, Plan]:
    """The references a technician stores: lights full and lights dimmed, nobody in front,
    at the middle quality (CRF 28)."""
    refs = {}
    for j, (name, light) in enumerate((("full", 1.0), ("dimmed", 0.45))):
        rng = np.random.default_rng([SEED, 999, j])
        plan = draw_plan(scene, "good", 0, 0, rng, "full")
        plan.params.update(light=light, people=0, wb=[0.0, 0.0, 0.0], wb_drift=[0.0, 0.0, 0.0])
        plan.rate = RATES[1]
        refs[name] = plan
    return refs


def _render(photos, plan: Plan, seed_key) -> tuple[bytes, list]:
    chain = Chain(photos, plan.scene)
    rng = np.random.default_rng([SEED, *seed_key])
    frames, ts = chain.frames(plan, rng)
    return encode(frames, plan.rate, chain.size), ts


def build(cache: Path | None = None, verbose: bool = True):
    """The whole set: ``(references {scene: {"full": img, "dimmed": img}}, [Clip...], found)``
    where ``found`` tells what differs from the manifest (empty when the set is the frozen one)."""
    cache = cache or default_cache()
    photos, found_src = fetch(cache)
    clips_dir = cache / "clips" / GENERATOR.replace("/", "-")
    clips_dir.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else None
    frozen = {c["key"]: c["sha256"] for c in (manifest or {}).get("clips", [])}
    differs = []
    refs = {}
    for si, scene in enumerate(photos):
        refs[scene] = {}
        for name, plan in reference_plans(scene).items():
            data = _cached(clips_dir, f"ref-{scene}-{name}", lambda: _render(photos, plan, (si, 7777, len(name))))
            refs[scene][name] = decode(data[0])[-1]
            key = f"ref/{scene}/{name}"
            digest = hashlib.sha256(data[0]).hexdigest()
            if frozen and frozen.get(key) != digest:
                differs.append(key)
    clips = []
    all_plans = plans(photos)
    for i, plan in enumerate(all_plans):
        data, ts = _cached(clips_dir, f"{i:04d}", lambda: _render(photos, plan, (i,)))
        digest = hashlib.sha256(data).hexdigest()
        if frozen and frozen.get(plan.key()) != digest:
            differs.append(plan.key())
        frames, keys = decode_with_types(data)
        clips.append(Clip(plan, frames, ts, digest, keys))
        if verbose and i % 100 == 99:
            print(f"  {i + 1}/{len(all_plans)} clips", file=sys.stderr)
    return refs, clips, {"sources": found_src, "differs": differs, "manifest": manifest is not None}


def _cached(folder: Path, name: str, make):
    path, meta = folder / f"{name}.mp4", folder / f"{name}.json"
    if path.exists() and meta.exists():
        return path.read_bytes(), json.loads(meta.read_text())
    data, ts = make()
    path.write_bytes(data)
    meta.write_text(json.dumps(ts))
    return data, ts


def freeze(cache: Path | None = None) -> None:
    refs, clips, found = build(cache)
    out = {"generator": GENERATOR, "seed": SEED, "frames_per_clip": FRAMES, "dt_s": DT,
           "made_with": {"opencv": cv2.__version__, "numpy": np.__version__,
                         "ffmpeg": subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True)
                         .stdout.splitlines()[0]},
           "sources": [{"name": s.name, "requirement": s.requirement, "member": s.member,
                        "sha256": found["sources"][s.name]} for s in SOURCES],
           "clips": []}
    cache = cache or default_cache()
    clips_dir = cache / "clips" / GENERATOR.replace("/", "-")
    for scene in refs:
        for name in ("full", "dimmed"):
            data = (clips_dir / f"ref-{scene}-{name}.mp4").read_bytes()
            out["clips"].append({"key": f"ref/{scene}/{name}", "sha256": hashlib.sha256(data).hexdigest()})
    for c in clips:
        out["clips"].append({"key": c.plan.key(), "label": c.plan.label, "level": c.plan.level,
                             "condition": c.plan.condition, "rate": c.plan.rate, "sha256": c.sha256})
    MANIFEST.write_text(json.dumps(out, indent=1) + "\n")
    print(f"froze {len(out['clips'])} clips into {MANIFEST}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--freeze", action="store_true", help="write the manifest from the set as made now")
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.freeze:
        freeze(args.cache)
        return 0
    refs, clips, found = build(args.cache)
    print(f"{len(clips)} clips, {sum(len(c.frames) for c in clips)} frames; "
          + ("same as the manifest" if found["manifest"] and not found["differs"] else
             f"DIFFERS from the manifest in {len(found['differs'])} clips" if found["manifest"] else "no manifest"))
    return 0 if found["manifest"] and not found["differs"] else 1


if __name__ == "__main__":
    sys.exit(main())
