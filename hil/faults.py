"""Picture faults a camera chain really shows, and the labelled set built from them.

``apply(frame, fault, level, rng)`` spoils one BGR frame (level 1 = mild but clearly
wrong, 3 = gross). The video stream simulator injects these; the accuracy benchmark and
the tests build a labelled set from scikit-image's real photographs with them
(:func:`photo_set`): every fault at three levels, plus good frames with lighting changes,
sensor noise, JPEG and people-like figures in front of the camera.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from vksroom.hil.scene import draw_person

FAULTS = ("blur", "dark", "bright", "black", "blue", "frozen", "noise", "cast", "obstruction", "wrong_view")
LEVELS = (1, 2, 3)

BLUR_SIGMA = {1: 1.5, 2: 2.5, 3: 4.0}      # in analysis pixels (long edge 640)
DARK_GAIN = {1: 0.25, 2: 0.15, 3: 0.07}
BRIGHT_GAIN = {1: 2.2, 2: 3.0, 3: 4.5}
NOISE_SIGMA = {1: 10.0, 2: 16.0, 3: 25.0}
CAST = {1: 0.4, 2: 0.6, 3: 0.9}             # log gain between the warm and cold channel
COVER = {1: 0.3, 2: 0.45, 3: 0.6}           # share of the frame an obstruction covers
SHIFT = {1: 0.05, 2: 0.08, 3: 0.12}         # wrong view: share of the frame width


def _rng(rng):
    return rng if rng is not None else np.random.default_rng()


def gain(frame: np.ndarray, g: float, gamma: float = 1.0, tint=(1.0, 1.0, 1.0)) -> np.ndarray:
    """Exposure/lighting change: ``255 * (g * x/255) ** gamma`` with per-channel tint (B, G, R)."""
    lut = np.arange(256, dtype=np.float32) / 255.0
    out = []
    chans = cv2.split(frame) if frame.ndim == 3 else [frame]
    for c, t in zip(chans, tint):
        table = np.clip(255.0 * (np.clip(lut * g * t, 0, None) ** gamma), 0, 255).astype(np.uint8)
        out.append(cv2.LUT(c, table))
    return cv2.merge(out) if len(out) > 1 else out[0]


def sensor_noise(frame: np.ndarray, sigma: float, rng=None) -> np.ndarray:
    if sigma <= 0:
        return frame.copy()
    n = _rng(rng).normal(0.0, sigma, frame.shape).astype(np.float32)
    return np.clip(frame.astype(np.float32) + n, 0, 255).astype(np.uint8)


def jpeg(frame: np.ndarray, quality: int = 85) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def no_signal(shape, colour=(160, 40, 10), text: str = "NO SIGNAL") -> np.ndarray:
    """The uniform screen a capture card or codec shows with no input."""
    h, w = shape[:2]
    img = np.empty((h, w, 3), np.uint8)
    img[:] = colour
    scale = max(0.4, w / 900)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    cv2.putText(img, text, ((w - tw) // 2, (h + th) // 2), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (235, 235, 235), max(1, int(2 * scale)), cv2.LINE_AA)
    return img


def people(frame: np.ndarray, n: int, rng=None, max_height: float = 0.55) -> np.ndarray:
    """Draw ``n`` people-like figures standing in the room (good frames: not a fault)."""
    rng = _rng(rng)
    img = frame.copy()
    h, w = img.shape[:2]
    for _ in range(n):
        ph = h * rng.uniform(0.25, max_height)
        x = rng.uniform(0.1, 0.9) * w
        foot = rng.uniform(0.75, 1.05) * h
        draw_person(img, x, foot, ph, rng.integers(20, 220, 3), rng,
                    skin=tuple(int(c) for c in rng.integers(90, 210, 3)))
    return img


def _cover_mask(h: int, w: int, cover: float, side: int, rng, from_top: bool) -> np.ndarray:
    """Where a cover lies, before the lens blurs it: a band from the left (0), right (1),
    bottom (2) or top (3), or a blob (4: fingertips) from the bottom or the top."""
    mask = np.zeros((h, w), np.float32)
    if side == 0:
        mask[:, : int(w * cover)] = 1
    elif side == 1:
        mask[:, w - int(w * cover):] = 1
    elif side == 2:
        mask[h - int(h * cover):, :] = 1
    elif side == 3:
        mask[: int(h * cover), :] = 1
    else:
        cv2.ellipse(mask, (int(w * rng.uniform(0.3, 0.7)), 0 if from_top else h), (int(w * math.sqrt(cover) * 0.75),
                    int(h * math.sqrt(cover) * 1.35)), 0, 0, 360, 1.0, -1)
    return mask


def obstruction(frame: np.ndarray, cover: float, rng=None) -> np.ndarray:
    """Something on or right in front of the lens: a blurred dark blob (finger, strap) or a
    flat sheet (paper, lens cap), entering from a random side, covering ``cover`` of the frame."""
    rng = _rng(rng)
    h, w = frame.shape[:2]
    side = int(rng.integers(0, 4))
    mask = _cover_mask(h, w, cover, side if side < 3 else 4, rng, from_top=False)
    # on the lens, so far out of focus that its edge spans 4-10 % of the frame width
    mask = cv2.GaussianBlur(mask, (0, 0), max(2.0, float(rng.uniform(0.04, 0.10)) * w))[:, :, None]
    if rng.random() < 0.5:       # finger/strap: dark, skin-toned, out of focus
        cover_img = np.empty_like(frame)
        cover_img[:] = rng.integers(20, 70, 3) if frame.ndim == 3 else int(rng.integers(20, 70))
        cover_img = sensor_noise(cover_img, 1.5, rng)
    else:                         # sheet: bright, flat, a soft shading gradient
        ramp = np.linspace(0.85, 1.0, w, dtype=np.float32)[None, :, None]
        base = rng.integers(170, 235)
        cover_img = np.clip(base * ramp * np.ones((h, 1, 3 if frame.ndim == 3 else 1), np.float32), 0, 255)
        cover_img = cover_img.astype(np.uint8).reshape(frame.shape)
    f = frame.astype(np.float32)
    c = cover_img.astype(np.float32)
    if frame.ndim == 2:
        mask = mask[:, :, 0]
    return np.clip(f * (1 - mask) + c * mask, 0, 255).astype(np.uint8)


SKIN_BOX = (0.385, 0.215, 0.42, 0.264)  # the astronaut's left cheek (x0, y0, x1, y1 shares)
COVER_KINDS = ("palm", "cloth", "paper")


def lens_cover(frame: np.ndarray, cover: float, rng=None, side: int | None = None, kind: str | None = None) -> np.ndarray:
    """A hand or a cover on the lens as it really looks: far out of focus (its edge spans
    4-10 % of the frame width), coming in from any side, the top included (a strap, a
    cap hanging down, a hand reaching over the camera), and lit unevenly (the room's
    light falls across it). ``kind``: a palm (skin from the astronaut photograph, its
    detail blurred away), dark cloth, or paper. Covers ``cover`` of the frame."""
    rng = _rng(rng)
    h, w = frame.shape[:2]
    side = int(rng.integers(0, 5)) if side is None else side
    kind = COVER_KINDS[int(rng.integers(0, 3))] if kind is None else kind
    mask = _cover_mask(h, w, cover, side, rng, from_top=rng.random() < 0.5 if side == 4 else False)
    mask = cv2.GaussianBlur(mask, (0, 0), max(2.0, float(rng.uniform(0.04, 0.10)) * w))
    if kind == "palm":
        photo = load_photo("astronaut")
        ph, pw = photo.shape[:2]
        x0, y0, x1, y1 = SKIN_BOX
        skin = photo[int(y0 * ph): int(y1 * ph), int(x0 * pw): int(x1 * pw)]
        c = cv2.resize(skin, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        c = cv2.GaussianBlur(c, (0, 0), 0.05 * w) * float(rng.uniform(0.5, 1.1))
    elif kind == "cloth":
        c = np.empty((h, w, 3), np.float32)
        c[:] = rng.integers(15, 70, 3)
    else:
        c = np.empty((h, w, 3), np.float32)
        c[:] = rng.integers(150, 235)
    # light falling across it: brightness changing by up to a half over the frame
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    ramp = 1 + float(rng.uniform(0.1, 0.5)) * ((xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang))
    c = c * ramp[:, :, None]
    if frame.ndim == 2:
        c = c.mean(axis=2)
    else:
        mask = mask[:, :, None]
    return np.clip(frame.astype(np.float32) * (1 - mask) + c * mask, 0, 255).astype(np.uint8)


def _disk(radius: float) -> np.ndarray:
    """A lens's defocus: a uniform disk of ``radius`` pixels, drawn 8 times finer and
    area-averaged (its edge pixels partly covered)."""
    n = int(math.ceil(radius)) * 2 + 1
    fine = np.zeros((8 * n, 8 * n), np.float32)
    cv2.circle(fine, (4 * n, 4 * n), max(1, int(round(8 * radius))), 1.0, -1)
    k = cv2.resize(fine, (n, n), interpolation=cv2.INTER_AREA)
    return k / k.sum()


def defocus(frame: np.ndarray, radius: float) -> np.ndarray:
    """Defocus as a lens gives it: a disk of ``radius`` analysis pixels (long edge 640)."""
    h, w = frame.shape[:2]
    edge = max(h, w)
    while edge > 640:
        edge //= 2
    return cv2.filter2D(frame, -1, _disk(radius * max(h, w) / edge))


def apply(frame: np.ndarray, fault: str, level: int = 2, rng=None) -> np.ndarray:
    """Return ``frame`` with ``fault`` at ``level`` (1-3). ``frozen`` and ``wrong_view``
    are about a sequence or the camera's aim, so a stream or set generator handles them;
    here they return the frame unchanged."""
    rng = _rng(rng)
    level = int(min(max(level, 1), 3))
    h, w = frame.shape[:2]
    if fault == "blur":
        edge = max(h, w)
        while edge > 640:       # the analyzer halves to at most 640 px: blur in its pixels
            edge //= 2
        return cv2.GaussianBlur(frame, (0, 0), BLUR_SIGMA[level] * max(h, w) / edge)
    if fault == "dark":
        return sensor_noise(gain(frame, DARK_GAIN[level]), 1.0, rng)
    if fault == "bright":
        return gain(frame, BRIGHT_GAIN[level], gamma=0.8)
    if fault == "black":
        level_v = {1: 16, 2: 0, 3: 4}[level]
        img = np.full(frame.shape, level_v, np.uint8)
        return sensor_noise(img, 1.0, rng)
    if fault == "blue":
        colour = {1: (160, 40, 10), 2: (128, 128, 128), 3: (200, 0, 0)}[level]
        return no_signal(frame.shape, colour)
    if fault == "noise":
        return sensor_noise(frame, NOISE_SIGMA[level], rng)
    if fault == "cast":
        s = CAST[level]
        kind = int(rng.integers(0, 3))
        tint = [(math.exp(-s / 2), 1.0, math.exp(s / 2)),          # warm (tungsten, wrong WB)
                (math.exp(s / 2), 1.0, math.exp(-s / 2)),          # cold
                (math.exp(-s / 2), math.exp(s / 2), math.exp(-s / 2))][kind]   # green
        return gain(frame, 1.0, 1.0, tint) if frame.ndim == 3 else frame.copy()
    if fault == "obstruction":
        return obstruction(frame, COVER[level], rng)
    if fault in ("frozen", "wrong_view"):
        return frame.copy()
    raise ValueError(f"unknown fault {fault!r} (known: {', '.join(FAULTS)})")


# ---------------------------------------------------------------- labelled set
PHOTOS = ("astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass",
          "gravel", "immunohistochemistry", "moon", "page", "retina", "rocket", "text",
          "motorcycle_left", "motorcycle_right")


def load_photo(name: str) -> np.ndarray:
    """A scikit-image photograph as 8-bit BGR (grey ones become three equal channels)."""
    import skimage.data as data

    if name.startswith("motorcycle_"):
        left, right, _ = data.stereo_motorcycle()
        img = left if name.endswith("left") else right
    else:
        img = getattr(data, name)()
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255).astype(np.uint8) if img.dtype.kind == "f" else img.astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        img = img[:, :, :3]
    return cv2.cvtColor(img, cv2.COLOR_RGB2BGR)


@dataclass
class Sample:
    scene: str
    label: str                      # "good" or a fault name
    level: int                      # 0 for good
    frames: list = field(default_factory=list)   # [(image, t, source_ts)]
    note: str = ""


VIEW = 0.76        # the "camera view" is the central 76 % of the photograph (room to move)


def _crop(photo, dx: float = 0.0, dy: float = 0.0, zoom: float = 1.0) -> np.ndarray:
    """The view: central crop moved by dx, dy (share of the view width) and zoomed."""
    h, w = photo.shape[:2]
    cw, ch = w * VIEW / zoom, h * VIEW / zoom
    x0 = (w - cw) / 2 + dx * w * VIEW
    y0 = (h - ch) / 2 + dy * w * VIEW
    x0, y0 = min(max(0, x0), w - cw), min(max(0, y0), h - ch)
    out_w, out_h = int(w * VIEW), int(h * VIEW)
    m = np.float32([[cw / out_w, 0, x0], [0, ch / out_h, y0]])
    return cv2.warpAffine(photo, m, (out_w, out_h), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def references_for(photo) -> list[np.ndarray]:
    """Two references, as a technician would store them: lights full and lights dimmed."""
    view = _crop(photo)
    return [jpeg(view, 90), jpeg(gain(view, 0.6, 1.1), 90)]


OPTICAL = ("blur", "dark", "bright", "cast", "obstruction")   # happen before the sensor


def _good(photo, rng, people_n: int = 0, spoil=None, lighting=(0.5, 1.2)) -> np.ndarray:
    """A good frame: same view (within preset repeatability), another lighting, noise, JPEG.
    ``spoil`` (an optical fault) is applied before the sensor noise and the encoder."""
    j = 0.003
    f = _crop(photo, rng.uniform(-j, j), rng.uniform(-j, j))
    g = float(np.exp(rng.uniform(math.log(lighting[0]), math.log(lighting[1]))))
    tint = tuple(float(np.exp(rng.uniform(-0.04, 0.04))) for _ in range(3))
    f = gain(f, g, float(rng.uniform(0.85, 1.15)), tint)
    if people_n:
        f = people(f, people_n, rng, max_height=0.6)
    if spoil is not None:
        f = spoil(f)
    f = sensor_noise(f, float(rng.uniform(0.5, 2.5)), rng)
    return jpeg(f, int(rng.integers(70, 95)))


CAMERA = ("tone", "daylight", "white_balance", "compressed")


def camera_good(photo, rng, kind: str) -> np.ndarray:
    """A good frame as a camera's own behaviour changes it: another tone curve (gamma and
    an S-curve), daylight through a window (a brighter, bluer part of the view, which the
    auto exposure partly takes back), its white balance drifting, or hard compression.
    None of these is a fault."""
    f = _crop(photo, rng.uniform(-0.003, 0.003), rng.uniform(-0.003, 0.003))
    quality = int(rng.integers(70, 95))
    if kind == "tone":
        f = gain(f, float(rng.uniform(0.7, 1.3)), float(rng.uniform(0.7, 1.4)))
        s = float(rng.uniform(-0.4, 0.4))
        x = np.arange(256, dtype=np.float32) / 255.0
        f = cv2.LUT(f, np.clip(255 * (x + s * x * (1 - x) * (2 * x - 1)), 0, 255).astype(np.uint8))
    elif kind == "daylight":
        h, w = f.shape[:2]
        yy, xx = np.mgrid[:h, :w].astype(np.float32)
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 0.6), rng.uniform(0.2, 0.45)
        light = 1 + rng.uniform(0.3, 1.0) * np.exp(-((xx / w - cx) ** 2 + (yy / h - cy) ** 2) / (2 * r * r))
        tint = np.array([1.06, 1.0, 0.95], np.float32)
        lit = f.astype(np.float32) * (1 + (light[:, :, None] - 1) * tint)
        # the camera's auto exposure takes back part of the added light
        back = (float(f.mean()) / max(float(lit.mean()), 1.0)) ** float(rng.uniform(0.3, 0.8))
        f = np.clip(lit * back, 0, 255).astype(np.uint8)
    elif kind == "white_balance":
        f = gain(f, float(rng.uniform(0.8, 1.1)), 1.0, tuple(float(np.exp(rng.uniform(-0.07, 0.07))) for _ in range(3)))
    else:
        quality = int(rng.integers(25, 50))
    f = sensor_noise(f, float(rng.uniform(0.5, 3.0)), rng)
    return jpeg(f, quality)


# A camera's failed white balance, as the camera makes it: a gain per channel in linear
# light (log gain, B G R, times half the strength), the 8-bit CAST strengths times 2.2.
CAST_DIRECTIONS = {"cold": (1, 0, -1), "warm": (-1, 0, 1), "green": (-1, 1, -1), "magenta": (1, -1, 1)}
COLOUR_PHOTOS = ("astronaut", "chelsea", "coffee", "immunohistochemistry", "retina", "rocket",
                 "motorcycle_left", "motorcycle_right")


def on_a_wall(photo, rng) -> np.ndarray:
    """The photograph as an object in a room: scaled to 0.5-0.7 of the view and set in front
    of a plain wall (off-white to mid grey, a faint tint of paint, lit unevenly, the gravel
    photograph's texture faintly on it). A colourful photograph then has neutral surfaces
    in part, as a courtroom view has (walls, paper, shirts) around its colourful things."""
    h, w = photo.shape[:2]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    light = 1 + float(rng.uniform(0.1, 0.4)) * ((xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang))
    texture = cv2.resize(load_photo("gravel")[:, :, 0], (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    texture = (texture - texture.mean()) * float(rng.uniform(0.05, 0.15))
    tint = np.exp(rng.uniform(-0.03, 0.03, 3)).astype(np.float32)
    wall = (float(rng.uniform(120, 215)) * light + texture)[:, :, None] * tint
    k = float(rng.uniform(0.5, 0.7))
    sw, sh = int(w * k), int(h * k)
    x0, y0 = int(rng.uniform(0, w - sw)), int(rng.uniform(0, h - sh))
    wall[y0:y0 + sh, x0:x0 + sw] = cv2.resize(photo, (sw, sh), interpolation=cv2.INTER_AREA)
    return np.clip(wall, 0, 255).astype(np.uint8)


def camera_chain(photo, rng, cast: str | None = None, level: int = 1, residual: float = 0.08) -> np.ndarray:
    """A frame through a camera that balances white in linear light: the view under the
    room's lighting, the white balance's residual error (log gain per channel, within
    ``residual``) and, for a failed white balance, a cast in one of CAST_DIRECTIONS at
    CAST[level] (8-bit strength, times 2.2 in linear light); then the camera's tone curve
    (a gamma of 1/1.8 to 1/2.6 and an S-curve), people in view at times, sensor noise, JPEG."""
    f = _crop(photo, rng.uniform(-0.003, 0.003), rng.uniform(-0.003, 0.003))
    lin = (f.astype(np.float32) / 255.0) ** 2.2
    logs = rng.uniform(-residual, residual, 3) + math.log(float(rng.uniform(0.5, 1.3)))
    if cast is not None:
        logs = logs + np.array(CAST_DIRECTIONS[cast], np.float64) * CAST[level] * 2.2 / 2
    lin = np.clip(lin * np.exp(logs).astype(np.float32), 0, 1) ** float(1 / rng.uniform(1.8, 2.6))
    s = float(rng.uniform(-0.3, 0.3))
    out = np.clip(255 * (lin + s * lin * (1 - lin) * (2 * lin - 1)), 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = people(out, int(rng.integers(1, 4)), rng, max_height=0.6)
    return jpeg(sensor_noise(out, float(rng.uniform(0.5, 2.5)), rng), int(rng.integers(70, 95)))


DEFOCUS = (1.2, 1.6, 2.0)      # mild defocus radii (analysis px): a lens just off focus


def photo_set(names=PHOTOS, good_per_photo: int = 20, levels=LEVELS, seed: int = 0, camera_per_photo: int = 0,
              covers_per_photo: int = 0, defocus_per_photo: int = 0, casts_per_photo: int = 0):
    """The labelled set: ``({scene: [reference images]}, [Sample...])``.

    Per photograph: ``good_per_photo`` good single frames (half with 1-3 people in view),
    two still-room sequences (good: sensor noise changes every frame), every fault at
    each level, and ``camera_per_photo`` good frames changed by the camera's own behaviour
    (:func:`camera_good`, drawn from their own random stream, so the rest of the set is
    the same with or without them). ``covers_per_photo`` more obstructions made as real
    covers look (:func:`lens_cover`: any side, the top too, palm, cloth or paper, lit
    unevenly) and ``defocus_per_photo`` more blurs as a lens's mild defocus (a disk of
    :data:`DEFOCUS` radii), each from its own random stream as well. ``casts_per_photo``
    casts through a camera that balances white in linear light (:func:`camera_chain`, the
    four CAST_DIRECTIONS in turn, every level) and as many good frames through the same
    camera (residual white balance within 0.08, or 0.15 for every other one), on the
    photograph and, for the colourful ones (COLOUR_PHOTOS), on the photograph set in front
    of a plain wall (:func:`on_a_wall`, scene "NAME on a wall", with its own references).
    Faults are applied to a good frame, so they come with lighting changes too.
    """
    rng = np.random.default_rng(seed)
    refs, samples = {}, []
    for pi, name in enumerate(names):
        photo = load_photo(name)
        refs[name] = references_for(photo)
        cam_rng = np.random.default_rng([seed, 1, pi])
        for k in range(camera_per_photo):
            kind = CAMERA[k % len(CAMERA)]
            samples.append(Sample(name, "good", 0, [(camera_good(photo, cam_rng, kind), 0.0, None)], kind))
        cover_rng = np.random.default_rng([seed, 2, pi])
        for k in range(covers_per_photo):
            level = LEVELS[k % 3]
            kind, side = COVER_KINDS[k % 3], int(cover_rng.integers(0, 5))
            f = _good(photo, cover_rng, int(cover_rng.integers(0, 2)),
                      spoil=lambda img: lens_cover(img, COVER[level], cover_rng, side, kind))
            samples.append(Sample(name, "obstruction", level, [(f, 0.0, None)], f"{kind} side={side}"))
        blur_rng = np.random.default_rng([seed, 3, pi])
        for k in range(defocus_per_photo):
            r = DEFOCUS[k % len(DEFOCUS)]
            f = _good(photo, blur_rng, int(blur_rng.integers(0, 2)), spoil=lambda img: defocus(img, r))
            samples.append(Sample(name, "blur", 1, [(f, 0.0, None)], f"disk r={r}"))
        cast_rng = np.random.default_rng([seed, 4, pi])
        views = [(name, photo)]
        if casts_per_photo and name in COLOUR_PHOTOS:
            wall = on_a_wall(photo, np.random.default_rng([4, pi]))    # the same room whatever the draw
            views.append((f"{name} on a wall", wall))
            refs[f"{name} on a wall"] = references_for(wall)
        for scene, view in views:
            for k in range(casts_per_photo):
                d = tuple(CAST_DIRECTIONS)[k % len(CAST_DIRECTIONS)]
                level = LEVELS[k % len(LEVELS)]
                samples.append(Sample(scene, "cast", level, [(camera_chain(view, cast_rng, d, level), 0.0, None)],
                                      f"camera {d}"))
                residual = 0.15 if k % 2 else 0.08
                samples.append(Sample(scene, "good", 0, [(camera_chain(view, cast_rng, residual=residual), 0.0, None)],
                                      f"camera white balance within {residual}"))
        for k in range(good_per_photo):
            n = int(rng.integers(1, 4)) if k % 2 else 0
            samples.append(Sample(name, "good", 0, [(_good(photo, rng, n), 0.0, None)], f"people={n}"))
        for k in range(2):      # still, empty room: every frame differs by sensor noise only
            view = gain(_crop(photo), float(rng.uniform(0.6, 1.2)))
            seq = [(jpeg(sensor_noise(view, float(rng.uniform(0.6, 1.5)), rng), 85), 0.5 * i, 0.5 * i)
                   for i in range(5)]
            samples.append(Sample(name, "good", 0, seq, "still room"))
        for fault in FAULTS:
            for level in levels:
                samples.append(_fault_sample(photo, name, fault, level, rng))
    return refs, samples


def _fault_sample(photo, name, fault, level, rng) -> Sample:
    if fault == "wrong_view":
        s = SHIFT[level]
        kind = int(rng.integers(0, 3))
        if kind == 0:
            f = _crop(photo, s * rng.choice([-1, 1]), 0)
        elif kind == 1:
            f = _crop(photo, s * 0.7 * rng.choice([-1, 1]), s * 0.7 * rng.choice([-1, 1]))
        else:
            f = _crop(photo, zoom=1.0 + 2.5 * s)
        f = jpeg(sensor_noise(gain(f, float(rng.uniform(0.7, 1.2))), 1.0, rng), 85)
        return Sample(name, fault, level, [(f, 0.0, None)], ["pan", "pan+tilt", "zoom"][kind])
    n = int(rng.integers(0, 2))
    if fault in OPTICAL:
        # Overexposure is judged against the lights-full exposure, not a dimmed one.
        lighting = (0.9, 1.1) if fault == "bright" else (0.5, 1.2)
        f = _good(photo, rng, n, spoil=lambda img: apply(img, fault, level, rng), lighting=lighting)
        return Sample(name, fault, level, [(f, 0.0, None)])
    base = _good(photo, rng, n)
    if fault == "frozen":
        # 1: identical frames; 2: identical with a live on-screen clock; 3: timestamps stalled
        seq = []
        for i in range(5):
            f = base
            if level == 2:
                f = base.copy()
                cv2.putText(f, f"10:00:0{i}", (4, 14), cv2.FONT_HERSHEY_PLAIN, 0.9, (255, 255, 255), 1)
            seq.append((f, 0.5 * i, 0.0 if level == 3 else 0.5 * i))
        return Sample(name, fault, level, seq)
    return Sample(name, fault, level, [(apply(base, fault, level, rng), 0.0, None)])


# ---------------------------------------------------------------- H.264 clips (temporal checks)
RATES = (23, 28, 33)          # libx264 CRF: good, usual, starved
CLIP_FRAMES, CLIP_DT, CLIP_GOP = 8, 0.5, 4    # 2 analysed frames a second, a keyframe every 2 s


def h264(frames, crf: int, gop: int = CLIP_GOP, dt: float = CLIP_DT, qp: int | None = None,
         probe=None) -> list[tuple[np.ndarray, bool]]:
    """Encode BGR ``frames`` with libx264 at constant quality ``crf`` (or, given ``qp``, at
    that fixed quantiser, as many cameras' encoders run) with a keyframe every ``gop``
    frames and no B-frames, and decode them with OpenCV's FFmpeg backend, as the product
    reads an RTSP camera: ``[(image, keyframe)]``, the frame type from the decoder.
    ``probe(path)``, if given, is called with the coded file before it is removed (a
    benchmark looking at the bitstream itself: benchmarks/frozen_separation.py)."""
    import os
    import subprocess
    import tempfile

    h, w = frames[0].shape[:2]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "clip.mp4")
        cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
               "-r", str(round(1 / dt)), "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-threads", "1",
               *(["-qp", str(int(qp))] if qp is not None else ["-crf", str(int(crf))]), "-g", str(int(gop)), "-bf", "0", "-pix_fmt", "yuv420p", path]
        subprocess.run(cmd, input=b"".join(np.ascontiguousarray(f).tobytes() for f in frames),
                       check=True, timeout=120)
        cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        out = []
        while True:
            ok, img = cap.read()
            if not ok:
                break
            out.append((img, cap.get(cv2.CAP_PROP_FRAME_TYPE) == ord("I")))
        cap.release()
        if probe is not None:
            probe(path)
    return out


@dataclass
class Clip:
    scene: str
    label: str                  # "good", "frozen", "noise" or "blur"
    level: int
    rate: int                   # CRF
    frames: list = field(default_factory=list)   # [(image, t, source_ts, keyframe)]
    note: str = ""
    coded: object = None        # what video_set's ``probe`` returned for the coded file


def _even(img: np.ndarray, edge: int = 640) -> np.ndarray:
    """At most ``edge`` px, even sides (yuv420p)."""
    h, w = img.shape[:2]
    k = min(1.0, edge / max(h, w))
    w2, h2 = int(w * k) // 2 * 2, int(h * k) // 2 * 2
    return cv2.resize(img, (w2, h2), interpolation=cv2.INTER_AREA)


def clip_references(name: str, rate: int) -> list[np.ndarray]:
    """The references a technician stores for :func:`video_set`'s clips of ``name`` at CRF
    ``rate``: frames of the camera's own stream (the clip's view and size, through the same
    encoder), lights full and dimmed as :func:`references_for`. The photograph's references
    are a pixel larger than the clips (the encoder's even sizes; the blur check then cannot
    line them up and falls back to a cruder ratio) and sharper than any frame x264 gives."""
    view = _even(_crop(load_photo(name)))
    rng = np.random.default_rng([264, rate, len(name)])
    return [h264([sensor_noise(v, 1.0, rng) for _ in range(3)], rate)[-1][0]
            for v in (view, gain(view, 0.6, 1.1))]


def video_set(names=PHOTOS, seed: int = 0, rates=RATES, frames: int = CLIP_FRAMES,
              defocus_clips: bool = True, probe=None) -> list[Clip]:
    """H.264 clips for the temporal checks (freeze, noise), per photograph and CRF: good
    clips of a still room (sensor noise fresh every frame; normal light and low light, where
    the gain makes it noisier), a good clip with a person walking, one with the lights
    changing (a ramp, a tone curve that wavers, an auto-exposure step), frozen pictures through a
    running encoder (1: the same picture; 2: the same with a live on-screen clock; the
    encoder keeps its keyframes, so the still picture is coded again every ``CLIP_GOP``
    frames), noise at each level added before the encoder and, with ``defocus_clips``, a
    still room through a lens just off focus (a disk of each :data:`DEFOCUS` radius as level
    1-3, drawn from its own random stream: the other clips are the same with or without).
    ``probe(path)``: see ``h264``, its result kept in each clip's ``coded``."""
    rng = np.random.default_rng([seed, 264])
    blur_rng = np.random.default_rng([seed, 264, 3])
    clips = []
    for name in names:
        photo = load_photo(name)
        view = _even(_crop(photo))
        h, w = view.shape[:2]
        for rate in rates:
            def live(img, sigma, extra=0.0, person=None):
                out = []
                for i in range(frames):
                    f = img
                    if person is not None:
                        f = f.copy()
                        x0, v, ph, colour, skin = person
                        draw_person(f, x0 + v * i, 0.95 * h, ph, colour, np.random.default_rng(7), skin=skin)
                    f = sensor_noise(f, sigma, rng)
                    if extra:
                        f = sensor_noise(f, extra, rng)
                    out.append(f)
                return out

            def clip(label, level, seq, note="", stalled=False):
                seen = []
                coded = h264(seq, rate, probe=None if probe is None else (lambda path: seen.append(probe(path))))
                clips.append(Clip(name, label, level, rate,
                                  [(img, CLIP_DT * i, 0.0 if stalled else CLIP_DT * i, key)
                                   for i, (img, key) in enumerate(coded)], note, seen[0] if seen else None))

            g = float(rng.uniform(0.7, 1.2))
            clip("good", 0, live(gain(view, g), float(rng.uniform(0.6, 2.0))), "still room")
            # low light: the auto exposure's gain brings most of the brightness back, and
            # amplifies the sensor's noise with it
            dim = gain(view, g * float(rng.uniform(0.5, 0.9)))
            clip("good", 0, live(dim, float(rng.uniform(2.5, 4.5))), "still room, low light")
            person = (float(rng.uniform(0.2, 0.8)) * w, float(rng.choice([-1, 1])) * float(rng.uniform(0.01, 0.04)) * w,
                      h * float(rng.uniform(0.3, 0.6)), rng.integers(20, 220, 3), (150, 120, 100))
            clip("good", 0, live(gain(view, g), float(rng.uniform(0.6, 2.0)), person=person), "person walking")
            # lights going down or up, which the auto exposure follows with a lag, and a step
            ramp = np.geomspace(1.0, float(rng.uniform(0.6, 0.8)), frames) * g
            if rng.random() < 0.5:
                ramp = ramp[::-1]
            step = int(rng.integers(1, frames))
            ramp[step:] *= float(np.exp(rng.choice([-1, 1]) * rng.uniform(0.1, 0.3)))
            # through the camera's own tone curve (a gamma and an S-curve): a gain before it is
            # no longer a gain after it
            x = np.arange(256, dtype=np.float32) / 255.0
            bend = float(rng.uniform(-0.4, 0.4))
            curve = np.clip(255 * (x + bend * x * (1 - x) * (2 * x - 1)), 0, 255).astype(np.uint8)
            gamma = float(rng.uniform(0.8, 1.2))
            clip("good", 0, [sensor_noise(cv2.LUT(gain(view, float(k), gamma), curve), float(rng.uniform(0.8, 2.5)), rng)
                             for k in ramp], "lights changing")
            still = sensor_noise(gain(view, g), float(rng.uniform(0.6, 2.0)), rng)
            clip("frozen", 1, [still] * frames)
            osd = []
            for i in range(frames):
                f = still.copy()
                cv2.putText(f, f"10:00:{i:02d}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
                osd.append(f)
            clip("frozen", 2, osd, "on-screen clock")
            for level in LEVELS:
                clip("noise", level, live(gain(view, g), 1.0, NOISE_SIGMA[level]))
            if defocus_clips:     # a lens just off focus, through the encoder (own stream)
                for level, r in enumerate(DEFOCUS, 1):
                    b = float(blur_rng.uniform(0.7, 1.2))
                    seq = [sensor_noise(defocus(gain(view, b), r), float(blur_rng.uniform(0.6, 2.0)), blur_rng)
                           for _ in range(frames)]
                    clip("blur", level, seq, f"disk r={r}")
    return clips


LIGHTING = ("dimmed", "ramp", "daylight", "tone", "falloff")   # good clips of cover_clips


def _lit(view: np.ndarray, kind: str, k: float, rng_state: dict) -> np.ndarray:
    """``view`` under a lighting change of ``kind`` at step ``k`` of a clip (0..1); the
    change's own draws are made once per clip and kept in ``rng_state``."""
    s = rng_state
    if kind == "dimmed":        # lights down to a quarter-half, the gain's noise with it
        return gain(view, s["g"], s["gamma"])
    if kind == "ramp":          # lights going down or up during the clip, through a tone curve
        g = s["g"] * (s["end"] ** (k if s["down"] else 1 - k))
        return cv2.LUT(gain(view, g, s["gamma"]), s["curve"])
    if kind == "tone":          # another tone curve, an exposure step mid-clip
        g = s["g"] * (s["step"] if k >= 0.5 else 1.0)
        return cv2.LUT(gain(view, g, s["gamma"]), s["curve"])
    h, w = view.shape[:2]
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    if kind == "daylight":      # a bright, bluer patch through a window, partly taken back by the exposure
        cx, cy, r, a = s["patch"]
        light = 1 + a * np.exp(-((xx / w - cx) ** 2 + (yy / h - cy) ** 2) / (2 * r * r))
        lit = view.astype(np.float32) * (1 + (light[:, :, None] - 1) * np.array([1.06, 1.0, 0.95], np.float32))
        back = (float(view.mean()) / max(float(lit.mean()), 1.0)) ** s["back"]
        return np.clip(lit * back, 0, 255).astype(np.uint8)
    # falloff: the room lit from one side, the far side and a corner in shadow
    ang, depth = s["falloff"]
    d = (xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang)
    light = np.clip(1 - depth * (d + 0.5), 0.15, 1.0) * s["g"]
    return np.clip(view.astype(np.float32) * light[:, :, None], 0, 255).astype(np.uint8)


def cover_clips(names=PHOTOS, seed: int = 0, rates=RATES, frames: int = 6) -> list[Clip]:
    """H.264 clips for obstruction without a reference, per photograph and CRF: good clips
    under each of :data:`LIGHTING` (lights dimmed, ramping, daylight through a window, a
    tone curve with an exposure step, the room lit from one side), which are never a fault,
    and a hand or cover on the lens (:func:`lens_cover`, each of its kinds in turn, any
    side) while the lights change as well. The clips go through libx264, as a camera's
    stream does: the encoder smooths a dim view's fine detail, which a frame judged on its
    own can take for something on the lens."""
    rng = np.random.default_rng([seed, 7, 264])
    x = np.arange(256, dtype=np.float32) / 255.0
    clips = []
    for pi, name in enumerate(names):
        view = _even(_crop(load_photo(name)))
        for ri, rate in enumerate(rates):
            for li, kind in enumerate(LIGHTING + ("cover",)):
                bend = float(rng.uniform(-0.4, 0.4))
                state = {"g": float(rng.uniform(0.25, 0.5)) if kind == "dimmed" else float(rng.uniform(0.6, 1.1)),
                         "gamma": float(rng.uniform(0.8, 1.25)), "end": float(rng.uniform(0.5, 0.75)),
                         "down": bool(rng.random() < 0.5), "step": float(np.exp(rng.choice([-1, 1]) * rng.uniform(0.15, 0.35))),
                         "curve": np.clip(255 * (x + bend * x * (1 - x) * (2 * x - 1)), 0, 255).astype(np.uint8),
                         "patch": (float(rng.uniform(0, 1)), float(rng.uniform(0, 0.6)), float(rng.uniform(0.2, 0.45)),
                                   float(rng.uniform(0.3, 1.0))), "back": float(rng.uniform(0.3, 0.8)),
                         "falloff": (float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0.4, 0.8)))}
                sigma = float(rng.uniform(2.5, 4.5)) if kind == "dimmed" else float(rng.uniform(0.6, 2.0))
                if kind == "cover":
                    level = LEVELS[(pi + ri) % 3]
                    ckind, side = COVER_KINDS[(pi + ri) % 3], int(rng.integers(0, 5))
                    light = LIGHTING[int(rng.integers(0, len(LIGHTING)))]
                    covered = lens_cover(view, COVER[level], np.random.default_rng([seed, 7, pi, ri]), side, ckind)
                    seq = [_lit(covered, light, i / max(frames - 1, 1), state) for i in range(frames)]
                    label, note = "obstruction", f"{ckind} side={side} {light}"
                else:
                    level, label, note = 0, "good", kind
                    seq = [_lit(view, kind, i / max(frames - 1, 1), state) for i in range(frames)]
                coded = h264([sensor_noise(f, sigma, rng) for f in seq], rate)
                clips.append(Clip(name, label, level, rate,
                                  [(img, CLIP_DT * i, CLIP_DT * i, key) for i, (img, key) in enumerate(coded)], note))
    return clips
