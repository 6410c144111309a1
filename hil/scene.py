"""A synthetic courtroom a simulated PTZ camera looks at.

The room is rendered once as a wide panorama in "degree space" (x = pan angle, y = tilt
angle, :data:`PX_PER_DEG` pixels a degree): walls with panelling, windows, the judge's
bench with the state emblem behind it, the secretary's desk, the parties' desks, benches
for the public, and people-like figures, some of which move. A view is the part of the
panorama a camera at pan/tilt/zoom sees, cropped and scaled to the output size.

Camera units are VISCA's: pan -2400..2400 (about -170..170 degrees), tilt -400..1200
(about -30..90 degrees), zoom 0..16384 (horizontal field of view 60 degrees at 0, 6 at
16384). :data:`JUDGE_VIEW` is where the judge's bench is, so a test can recall the judge
preset and check the picture really shows the bench.

Only numpy and OpenCV; nothing from the controller or the drivers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

PX_PER_DEG = 16
PAN_DEG = (-100.0, 100.0)        # the panorama covers these pan angles...
TILT_DEG = (-35.0, 35.0)         # ...and these tilt angles (positive = up)
PAN_UNITS_PER_DEG = 2400 / 170.0
TILT_UNITS_PER_DEG = 1200 / 90.0
WIDE_FOV, TELE_FOV = 60.0, 6.0

# Where things are (pan, tilt in degrees) and good camera views of them (VISCA units).
JUDGE_DEG = (0.0, 4.0)
JUDGE_VIEW = (0, int(6.0 * TILT_UNITS_PER_DEG), 3600)
OVERVIEW = (0, int(-4.0 * TILT_UNITS_PER_DEG), 0)
PLAINTIFF_VIEW = (int(-45 * PAN_UNITS_PER_DEG), int(-6 * TILT_UNITS_PER_DEG), 5000)
DEFENDANT_VIEW = (int(45 * PAN_UNITS_PER_DEG), int(-6 * TILT_UNITS_PER_DEG), 5000)


def visca_to_degrees(pan: float, tilt: float, zoom: float) -> tuple[float, float, float]:
    """(pan deg, tilt deg, horizontal field of view deg) for VISCA pan/tilt/zoom units."""
    z = min(max(zoom, 0), 16384) / 16384.0
    fov = WIDE_FOV * (TELE_FOV / WIDE_FOV) ** z
    return pan / PAN_UNITS_PER_DEG, tilt / TILT_UNITS_PER_DEG, fov


def draw_person(img: np.ndarray, x: float, foot_y: float, height: float, colour, rng=None,
                skin=(120, 150, 200)) -> None:
    """A people-like figure: head, shoulders, torso, shading and cloth texture."""
    h = float(height)
    x, foot_y = float(x), float(foot_y)
    head_r = max(2, int(h * 0.09))
    head_c = (int(x), int(foot_y - h + head_r))
    torso_top = foot_y - h + 2.1 * head_r
    w = h * 0.34
    body = np.array([[x - w * 0.5, torso_top + h * 0.05], [x - w * 0.42, torso_top],
                     [x + w * 0.42, torso_top], [x + w * 0.5, torso_top + h * 0.05],
                     [x + w * 0.4, foot_y], [x - w * 0.4, foot_y]], np.int32)
    colour = tuple(int(c) for c in colour)
    cv2.fillPoly(img, [body], colour, lineType=cv2.LINE_AA)
    dark = tuple(max(0, int(c * 0.6)) for c in colour)
    cv2.line(img, (int(x), int(torso_top)), (int(x), int(foot_y)), dark, max(1, int(h / 60)), cv2.LINE_AA)
    cv2.line(img, (int(x - w * 0.3), int(torso_top + h * 0.3)), (int(x + w * 0.3), int(torso_top + h * 0.3)),
             dark, max(1, int(h / 80)), cv2.LINE_AA)
    cv2.circle(img, head_c, head_r, tuple(int(c) for c in skin), -1, cv2.LINE_AA)
    cv2.ellipse(img, (head_c[0], head_c[1] - head_r // 3), (head_r, max(1, head_r * 2 // 3)), 0, 180, 360,
                (40, 40, 50), -1, cv2.LINE_AA)


@dataclass
class Figure:
    pan: float          # degrees
    tilt_foot: float    # degrees
    height: float       # degrees
    colour: tuple
    sway: float = 0.0   # degrees of movement amplitude (0 = still)
    period: float = 4.0


class Courtroom:
    """The rendered room. ``view(pan, tilt, zoom, size, t)`` gives a BGR frame."""

    def __init__(self, seed: int = 1):
        self.rng = np.random.default_rng(seed)
        self.pano = self._render_static()
        self.figures = self._figures()

    # -- geometry helpers
    @staticmethod
    def _px(pan_deg: float, tilt_deg: float) -> tuple[float, float]:
        return (pan_deg - PAN_DEG[0]) * PX_PER_DEG, (TILT_DEG[1] - tilt_deg) * PX_PER_DEG

    def _rect(self, img, pan0, tilt0, pan1, tilt1, colour, border=None):
        x0, y0 = self._px(pan0, tilt1)
        x1, y1 = self._px(pan1, tilt0)
        cv2.rectangle(img, (int(x0), int(y0)), (int(x1), int(y1)), colour, -1)
        if border is not None:
            cv2.rectangle(img, (int(x0), int(y0)), (int(x1), int(y1)), border, 2)

    def _render_static(self) -> np.ndarray:
        w = int((PAN_DEG[1] - PAN_DEG[0]) * PX_PER_DEG)
        h = int((TILT_DEG[1] - TILT_DEG[0]) * PX_PER_DEG)
        img = np.zeros((h, w, 3), np.uint8)
        floor_y = int(self._px(0, -8)[1])
        ceil_y = int(self._px(0, 26)[1])
        img[:ceil_y] = (215, 220, 222)                         # ceiling
        img[ceil_y:floor_y] = (178, 196, 206)                  # wall (warm beige)
        img[floor_y:] = (70, 92, 120)                          # floor (brown)
        # floorboards and wall panelling give texture for focus and registration
        for y in range(floor_y, h, 14):
            cv2.line(img, (0, y), (w, y), (58, 78, 104), 1)
        for pan in np.arange(PAN_DEG[0], PAN_DEG[1], 6.0):
            x = int(self._px(pan, 0)[0])
            cv2.line(img, (x, ceil_y), (x, floor_y), (150, 170, 184), 2)
        panel_y = int(self._px(0, -2)[1])
        cv2.rectangle(img, (0, panel_y), (w, floor_y), (60, 95, 140), -1)       # wood dado
        for pan in np.arange(PAN_DEG[0], PAN_DEG[1], 3.0):
            x = int(self._px(pan, 0)[0])
            cv2.line(img, (x, panel_y), (x, floor_y), (45, 75, 115), 2)
        # ceiling lights
        for pan in np.arange(-90, 91, 15.0):
            self._rect(img, pan - 2, 27, pan + 2, 28.5, (250, 252, 252), (200, 200, 200))
        # windows on the left wall with frames
        for pan in (-85, -70, -55):
            self._rect(img, pan - 5, 4, pan + 5, 22, (235, 215, 170), (90, 90, 90))
            x, y0 = self._px(pan, 22)
            _, y1 = self._px(pan, 4)
            cv2.line(img, (int(x), int(y0)), (int(x), int(y1)), (90, 90, 90), 3)
        # state emblem (sun and eagle in a circle) and flag behind the judge
        ex, ey = self._px(JUDGE_DEG[0], 17)
        cv2.circle(img, (int(ex), int(ey)), int(3.2 * PX_PER_DEG), (60, 170, 220), -1, cv2.LINE_AA)
        cv2.circle(img, (int(ex), int(ey)), int(3.2 * PX_PER_DEG), (30, 120, 170), 3, cv2.LINE_AA)
        for k in range(16):
            a = k * math.pi / 8
            cv2.line(img, (int(ex), int(ey)), (int(ex + 2.6 * PX_PER_DEG * math.cos(a)),
                     int(ey + 2.6 * PX_PER_DEG * math.sin(a))), (40, 200, 240), 2, cv2.LINE_AA)
        self._rect(img, 7, 6, 12, 20, (190, 160, 0), (120, 100, 0))           # flag (sky blue)
        # the judge's bench: raised, dark wood, three chairs
        self._rect(img, -14, -8, 14, 4, (40, 70, 110), (25, 45, 75))
        self._rect(img, -14, 3, 14, 4.5, (55, 90, 135))
        for pan in (-8, 0, 8):
            self._rect(img, pan - 2, 4.5, pan + 2, 11, (30, 30, 110), (20, 20, 70))   # high-backed chairs
        cv2.putText(img, "SOT", (int(self._px(-3, 0)[0]), int(self._px(0, -3)[1])), cv2.FONT_HERSHEY_SIMPLEX,
                    1.6, (180, 210, 230), 3, cv2.LINE_AA)
        # secretary's desk, parties' desks, public benches
        self._rect(img, 18, -10, 30, -4, (50, 80, 120), (30, 50, 80))
        for pan in (-45, 45):
            self._rect(img, pan - 10, -14, pan + 10, -7, (55, 85, 125), (30, 50, 80))
            self._rect(img, pan - 9, -7, pan - 5, -5.5, (200, 200, 200))        # papers
            self._rect(img, pan + 4, -7, pan + 7, -6, (40, 40, 40))             # microphone base
        for pan0 in (-95, -30, 35):
            for row in range(3):
                t = -22 - row * 4
                self._rect(img, pan0, t - 2, pan0 + 60 if pan0 != -95 else pan0 + 40, t, (45, 75, 110), (30, 50, 80))
        # a clock and a screen for the remote party (VKS)
        cx, cy = self._px(60, 16)
        cv2.circle(img, (int(cx), int(cy)), int(1.6 * PX_PER_DEG), (245, 245, 245), -1, cv2.LINE_AA)
        cv2.circle(img, (int(cx), int(cy)), int(1.6 * PX_PER_DEG), (30, 30, 30), 2, cv2.LINE_AA)
        self._rect(img, 70, 6, 88, 17, (30, 30, 30), (10, 10, 10))
        self._rect(img, 71, 7, 87, 16, (120, 90, 60))
        # fine plaster texture so that focus has something to measure everywhere
        noise = self.rng.normal(0, 5, img.shape[:2]).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), 0.8)
        img = np.clip(img.astype(np.float32) + noise[:, :, None], 0, 255).astype(np.uint8)
        return img

    def _figures(self) -> list[Figure]:
        robe = (35, 30, 30)
        # judges seated behind the bench: only the upper body shows above its top
        figs = [Figure(-8, 4, 5.5, robe), Figure(0, 4, 6, robe, sway=0.3, period=6.0), Figure(8, 4, 5.5, robe),
                Figure(24, -9, 8, (120, 60, 40), sway=0.6, period=5.0),           # secretary
                Figure(-48, -13, 12, (90, 90, 90), sway=0.5), Figure(-40, -13, 12, (40, 60, 130)),
                Figure(44, -13, 12, (60, 60, 60), sway=0.8, period=3.0),
                Figure(-5, -16, 13, (50, 110, 50), sway=8.0, period=20.0)]       # someone walking
        for k in range(10):
            pan = -80 + 16 * k + float(self.rng.uniform(-3, 3))
            colour = tuple(int(c) for c in self.rng.integers(30, 200, 3))
            figs.append(Figure(pan, -22 - 4 * (k % 3), 9, colour, sway=0.4 if k % 3 == 0 else 0.0))
        return figs

    # -- views
    def view(self, pan: float, tilt: float, zoom: float, size=(1280, 720), t: float = 0.0,
             people: bool = True) -> np.ndarray:
        """The BGR frame a camera at VISCA ``pan``/``tilt``/``zoom`` sees at time ``t``."""
        pan_d, tilt_d, fov = visca_to_degrees(pan, tilt, zoom)
        out_w, out_h = size
        vfov = fov * out_h / out_w
        cx, cy = self._px(pan_d, tilt_d)
        cw, ch = fov * PX_PER_DEG, vfov * PX_PER_DEG
        x0, y0 = cx - cw / 2, cy - ch / 2
        # Map output pixels to the panorama (affine: scale + offset), border = dark ceiling/floor.
        s = cw / out_w
        m = np.float32([[s, 0, x0], [0, s, y0]])
        flags = cv2.INTER_AREA if s > 1 else cv2.INTER_LINEAR
        if people:
            ix0, iy0 = max(0, int(x0) - 2), max(0, int(y0) - 2)
            ix1 = min(self.pano.shape[1], int(x0 + cw) + 3)
            iy1 = min(self.pano.shape[0], int(y0 + ch) + 3)
            if ix1 <= ix0 or iy1 <= iy0:
                return np.full((out_h, out_w, 3), 30, np.uint8)
            crop = self.pano[iy0:iy1, ix0:ix1].copy()
            for fg in self.figures:
                dx = fg.sway * math.sin(2 * math.pi * t / fg.period) if fg.sway else 0.0
                fx, fy = self._px(fg.pan + dx, fg.tilt_foot)
                if ix0 - 200 < fx < ix1 + 200:
                    draw_person(crop, fx - ix0, fy - iy0, fg.height * PX_PER_DEG, fg.colour)
            src, m = crop, np.float32([[s, 0, x0 - ix0], [0, s, y0 - iy0]])
        else:
            src = self.pano
        if s > 1.5:
            # Shrink the crop first so the final warp samples a near-1:1 image (no aliasing).
            k = int(s)
            src = cv2.resize(src, (max(1, src.shape[1] // k), max(1, src.shape[0] // k)), interpolation=cv2.INTER_AREA)
            m = np.float32([[m[0, 0] / k, 0, m[0, 2] / k], [0, m[1, 1] / k, m[1, 2] / k]])
        return cv2.warpAffine(src, m, (out_w, out_h), flags=(cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP),
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(40, 40, 40))
