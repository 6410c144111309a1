"""Camera pictures on the panel: a snapshot per camera with the verdict and each check's
score drawn over it, judged against the chosen preset's references, and "store as
reference" (POST, confirmed in the browser; a black, dark or blurred picture is refused
unless the technician confirms once more).

Cameras are the configured devices of type ``camera`` with a ``video`` URL. The pictures
come from the controller's picture service (``controller.pictures``), which owns the
cameras' readers: a request only waits, at most PICTURE_WAIT_S, for a fresh frame.
"""
from __future__ import annotations

import functools
import logging
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from vksroom.controller import texts as tx
from vksroom.controller.acts import FONT_DIR
from vksroom.controller.video import verdict_results
from vksroom.drivers.errors import ConfigError, DeviceError
from vksroom.drivers.video.quality import BAD_BELOW, Analyzer, BadFrame, Verdict
from vksroom.drivers.video.references import ReferenceStore
from vksroom.web import i18n

log = logging.getLogger(__name__)

NAV = ("nav.video", "video.page")
bp = Blueprint("video", __name__)

PICTURE_WAIT_S = 5.0           # the longest a request waits for a camera's picture
SNAPSHOT_EDGE = 960            # the drawn snapshot's long edge
THUMB_EDGE = 160               # a reference's thumbnail on its preset button
SUSPECT = ("black", "dark", "blur", "frozen")   # a reference showing these is refused once
LIGHTS = ("full", "dimmed")      # the lighting a reference is stored for (its label)
SUSPECT_CODES = {"black": "camera.video.black", "dark": "camera.video.dark", "blur": "camera.video.blur",
                 "frozen": "camera.video.frozen"}


def _controller():
    return current_app.config["CONTROLLER"]


def _lang() -> str:
    return i18n.current_language(current_app.config["LANGUAGE"])


def _t(key: str, **params) -> str:
    return i18n.translate(key, _lang(), **params)


def cameras() -> dict:
    """Configured cameras with a video URL: ``{id: DeviceConfig}``."""
    devices = getattr(_controller().cfg, "devices", {})
    return {d.id: d for d in devices.values() if d.type == "camera" and d.options.get("video")}


def _camera(dev_id: str):
    cam = cameras().get(dev_id)
    if cam is None:
        abort(404)
    return cam


def _store() -> ReferenceStore:
    c = _controller()
    return ReferenceStore(Path(getattr(c, "data_dir", None) or c.cfg.data_dir))


def _presets(cam) -> list[str]:
    return [str(p) for p in (cam.options.get("presets") or {})] or ["1"]


def _preset(cam) -> str:
    preset = (request.values.get("preset") or _presets(cam)[0]).strip()
    try:
        _store().folder(cam.id, preset)
    except ConfigError as exc:
        abort(Response(i18n.command_error(exc, cam.label, _lang())["error"], 400, mimetype="text/plain; charset=utf-8"))
    return preset


def grab(cam) -> np.ndarray:
    """A picture of the camera read after this request began, from the controller's picture
    service. Raises DeviceError (no picture) or BadFrame."""
    return _controller().pictures.picture(cam.id, PICTURE_WAIT_S).image


def scaled(image: np.ndarray) -> np.ndarray:
    """The picture scaled to at most SNAPSHOT_EDGE (a copy)."""
    h, w = image.shape[:2]
    k = min(1.0, SNAPSHOT_EDGE / max(h, w))
    return cv2.resize(image, (int(w * k), int(h * k)), interpolation=cv2.INTER_AREA) if k < 1 else image.copy()


# What each picture check is called on the picture (its catalogue key).
CHECK_WORDS = {"blur": "video.check.blur", "dark": "video.check.dark", "bright": "video.check.bright",
               "black": "video.check.black", "frozen": "video.check.frozen", "noise": "video.check.noise",
               "cast": "video.check.cast", "obstruction": "video.check.obstruction", "drift": "video.check.drift"}


@functools.lru_cache(maxsize=8)
def _font(size: int):
    """DejaVu Sans (Cyrillic and the Kazakh letters), the act's font; None when it is missing."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype(str(FONT_DIR / "DejaVuSans.ttf"), size)
    except OSError:
        log.warning("video: %s missing: the picture's verdict is drawn without words", FONT_DIR / "DejaVuSans.ttf")
        return None


# The drawn box's words: the check lines' font size from the largest to the smallest still
# readable on a 320 px picture (the heading 3 px larger), each row 1.2 times its font's size
# high (DejaVu's ascent and descent are 1.16) and the box's margin around them.
FONT_SIZES = (12, 11, 10)
BOX_PAD = 6


def _row_height(font) -> int:
    return math.ceil(font.size * 1.2) + 1


def wrap(text: str, font, width: int) -> list[str]:
    """``text`` broken at spaces into rows each at most ``width`` px wide in ``font``; a word
    wider than that alone is broken between its letters."""
    rows: list[str] = []
    for word in text.split():
        if rows and font.getlength(f"{rows[-1]} {word}") <= width:
            rows[-1] = f"{rows[-1]} {word}"
            continue
        while len(word) > 1 and font.getlength(word) > width:   # a word too long for any row
            cut = next(k for k in range(len(word) - 1, 0, -1) if k == 1 or font.getlength(word[:k]) <= width)
            rows.append(word[:cut])
            word = word[cut:]
        rows.append(word)
    return rows or [""]


def layout(lines: list[tuple[str, bool | None]], width: int, height: int):
    """Where ``lines`` (the first the heading) go in the box on a ``width`` x ``height``
    picture: ``(box width, box height, [(row text, ok, font, top)])``, at the largest
    FONT_SIZES size whose rows, wrapped at word boundaries, fit the picture's width and height
    (at the smallest where none does, the rows below the picture's bottom left out). None
    without the font."""
    inner = max(1, width - 2 * BOX_PAD)
    for size in FONT_SIZES:
        heading, small = _font(size + 3), _font(size)
        if heading is None or small is None:
            return None
        rows: list[tuple[str, bool | None, Any, int]] = []
        top = BOX_PAD
        for i, (text, ok) in enumerate(lines):
            font = heading if i == 0 else small
            for row in wrap(text, font, inner):
                rows.append((row, ok, font, top))
                top += _row_height(font)
        if top + BOX_PAD <= height:
            break
    rows = [r for r in rows if r[3] + _row_height(r[2]) <= height - BOX_PAD] or rows[:1]
    box_w = 2 * BOX_PAD + math.ceil(max(font.getlength(text) for text, _, font, _ in rows)) + 1
    return min(width, box_w), min(height, rows[-1][3] + _row_height(rows[-1][2]) + BOX_PAD), rows


def verdict_lines(verdict: Verdict, lang: str, preset: str | None = None) -> list[tuple[str, bool | None]]:
    """The words drawn over the picture: the verdict, what it was compared with (``preset``'s
    stored reference or none, when given), then every check's score against its limit (or
    "cannot tell without a reference" where the picture gave no evidence), in the panel's
    language, each with whether it is ok (None: neither, a request to the technician)."""
    lines: list[tuple[str, bool | None]] = [
        (i18n.translate("video.ok" if verdict.ok else "video.fault", lang), verdict.ok)]
    if preset is not None:
        lines.append((basis_line(preset, verdict.reference, lang), True if verdict.with_reference else None))
    for name, c in verdict.checks.items():
        side = "≥" if name in BAD_BELOW else ("<" if name == "frozen" else "≤")
        word = i18n.translate(CHECK_WORDS[name], lang) if name in CHECK_WORDS else name
        if not c.judged:     # no evidence in this picture without a reference (a colourful view's cast)
            lines.append((f"{word}: {i18n.translate('video.not_judged', lang)}", c.ok))
            continue
        figures = f"{c.score:.3f} {side} {c.threshold:g}"
        lines.append((f"{word}: {figures.replace('.', ',') if lang in ('kk', 'ru') else figures}", c.ok))
    return lines


def draw(image: np.ndarray, verdict: Verdict, lang: str, preset: str | None = None) -> np.ndarray:
    """The picture scaled to at most SNAPSHOT_EDGE with the verdict, what it was compared with
    and every check's score, in the panel's language (red when faulty, amber where no reference
    was stored), in a shaded box inside the picture (lines wrapped to its width, see layout)."""
    from PIL import Image, ImageDraw

    img = scaled(image)
    h, w = img.shape[:2]
    lines = verdict_lines(verdict, lang, preset)
    placed = layout(lines, w, h)
    if placed is None:                     # no font: the shaded box alone
        img[:8 + 18 * len(lines), :250] = (img[:8 + 18 * len(lines), :250] * 0.35).astype(np.uint8)
        return img
    box_w, box_h, rows = placed
    img[:box_h, :box_w] = (img[:box_h, :box_w] * 0.35).astype(np.uint8)
    canvas = Image.fromarray(img[:, :, ::-1])          # BGR -> RGB
    pen = ImageDraw.Draw(canvas)
    for text, ok, font, top in rows:
        pen.text((BOX_PAD, top), text, font=font,
                 fill=(255, 200, 60) if ok is None else (80, 220, 80) if ok else (255, 60, 60))
    return np.ascontiguousarray(np.asarray(canvas)[:, :, ::-1])


def preset_name(preset: str, lang: str) -> str:
    """A preset as people name it: its participant (presets are keyed by role), else its number."""
    return f"№ {preset}" if preset.isdigit() else i18n.role_name(preset, lang)   # a role of the room's own as named


def basis_line(preset: str, reference: str, lang: str) -> str:
    """What a verdict at ``preset`` was compared with, in words: the stored reference named
    ``reference`` (its file's stem, ``<stamp>-<lighting>``), or none ("")."""
    if not reference:
        return i18n.translate("camera.video.judged_without_reference", lang)
    light = reference.partition("-")[2]
    if light not in LIGHTS:
        return i18n.translate("video.basis.stored", lang, preset=preset_name(preset, lang))
    return i18n.translate("video.basis.stored_light", lang, preset=preset_name(preset, lang),
                          light=i18n.translate(f"video.light.{light}", lang).lower())


def store_prompt(cam, preset: str, lang: str) -> dict:
    """The link to the store form of ``cam``'s ``preset`` on the pictures page (preselected)."""
    return {"href": url_for("video.page", **{f"preset_{cam.id}": preset}, _anchor=f"video-{cam.id}"),
            "text": i18n.translate("video.store_for", lang, preset=preset_name(preset, lang))}


def _remember(cam, preset: str, verdict: Verdict | None) -> None:
    """The camera's last judged picture (None: no picture), for the camera page's words."""
    params = {"device": cam.label, "preset": preset, "role": tx.role_label(preset)}
    results = verdict_results(cam.id, verdict.checks, params) if verdict else []
    current_app.extensions.setdefault("vksroom.verdicts", {})[cam.id] = {
        "ok": bool(verdict and verdict.ok), "signal": verdict is not None, "preset": preset,
        "reference": verdict.reference if verdict else "",
        "faults": [(r.code, r.params) for r in results if not r.ok]}


def _rejudge(cam, preset: str, frame: np.ndarray) -> None:
    """After a reference is stored for ``preset``: if the camera's last judged picture was at
    that preset, the picture just stored (the camera's newest) is judged against the preset's
    references now, so the camera page says at once what it is compared with, not "judged
    without a reference" until its next picture."""
    last = current_app.extensions.get("vksroom.verdicts", {}).get(cam.id)
    if last is not None and last["preset"] == preset:
        _remember(cam, preset, Analyzer(_store().load(cam.id, preset)).analyze(frame))


def camera_picture(dev_id: str, preset: str, roles, lang: str) -> dict | None:
    """What the camera page shows beside the arrow pad: the live picture's address, the verdict
    on the last picture in words with what it was compared with (``basis``: the reference stored
    for its preset, or none and a link to store one), and each role's reference thumbnail
    (None: no video URL)."""
    cam = cameras().get(dev_id)
    if cam is None:
        return None
    last = current_app.extensions.get("vksroom.verdicts", {}).get(dev_id)
    if last is None:
        verdict = {"state": "none", "text": "—", "reasons": []}
    elif not last["signal"]:
        verdict = {"state": "fault", "text": i18n.translate("camera.video.no_signal", lang, device=cam.label),
                   "reasons": []}
    else:
        verdict = {"state": "ok" if last["ok"] else "fault",
                   "text": i18n.translate("video.ok" if last["ok"] else "video.fault", lang),
                   "reasons": [tx.say(code, params, lang) for code, params in last["faults"]]}
    store = _store()

    def stored(role: str) -> bool:
        try:
            return bool(store.paths(cam.id, role))
        except ConfigError:
            return False

    thumbs = {role: url_for("video.reference_thumb", dev_id=cam.id, preset=role) if stored(role) else None
              for role in roles}
    judged = last is not None and last["signal"]
    at = last["preset"] if judged else preset           # the preset the words are about
    has = stored(at)
    basis = {"ok": bool(judged and last["reference"]),
             "text": basis_line(at, last["reference"], lang) if judged else
             "" if has else i18n.translate("video.basis.missing", lang, preset=preset_name(at, lang)),
             "store": None if has else store_prompt(cam, at, lang)}
    return {"src": url_for("video.snapshot", dev_id=cam.id, preset=preset, plain=1), "verdict": verdict,
            "basis": basis, "thumbs": thumbs}


@bp.get("/video/<dev_id>/reference/<preset>.jpg")
def reference_thumb(dev_id: str, preset: str):
    """The newest stored reference of a camera's preset, as a thumbnail (for its preset button)."""
    cam = _camera(dev_id)
    try:
        paths = _store().paths(cam.id, preset)
    except ConfigError:
        abort(404)
    image = cv2.imread(str(paths[-1])) if paths else None
    if image is None:
        abort(404)
    h, w = image.shape[:2]
    k = THUMB_EDGE / max(h, w)
    thumb = cv2.resize(image, (max(1, int(w * k)), max(1, int(h * k))), interpolation=cv2.INTER_AREA)
    body = cv2.imencode(".jpg", thumb, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    return Response(body, mimetype="image/jpeg", headers={"Cache-Control": "no-cache"})


@bp.get("/video")
def page():
    cams = cameras()
    store = _store()
    rows = []
    for cam in cams.values():
        presets = _presets(cam)
        preset = request.args.get(f"preset_{cam.id}") or presets[0]
        rows.append({"cam": cam, "presets": presets, "preset": preset, "names": {p: preset_name(p, _lang()) for p in presets},
                     "references": len(store.paths(cam.id, preset)) if preset in presets else 0})
    return render_template("video.html", rows=rows, lights=LIGHTS)


@bp.get("/video/<dev_id>/snapshot.jpg")
def snapshot(dev_id: str):
    cam = _camera(dev_id)
    preset = _preset(cam)
    try:
        frame = grab(cam)
        analyzer = Analyzer(_store().load(cam.id, preset))
        verdict = analyzer.analyze(frame)
    except (DeviceError, BadFrame) as exc:
        log.info("video %s: no picture: %s", cam.id, exc)
        _remember(cam, preset, None)
        return Response(_t("camera.video.no_signal", device=cam.label), 503, mimetype="text/plain; charset=utf-8")
    _remember(cam, preset, verdict)
    # ?plain=1: the picture alone (the camera page says the verdict in words beside it)
    picture = scaled(frame) if request.args.get("plain") == "1" else draw(frame, verdict, _lang(), preset)
    body = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
    return Response(body, mimetype="image/jpeg", headers={
        "Cache-Control": "no-store", "X-Verdict": "ok" if verdict.ok else "fault",
        "X-Faults": ",".join(verdict.faults)})


@bp.post("/video/<dev_id>/reference")
def store_reference(dev_id: str):
    cam = _camera(dev_id)
    preset = _preset(cam)
    label = (request.form.get("label") or "").strip()
    forced = request.form.get("force") == "1"
    try:
        frame = grab(cam)
        # Judged on its own (no reference): a black, dark, blurred or frozen picture is no
        # reference; the technician must say so twice to store it.
        verdict = Analyzer().analyze(frame)
        suspect = [f for f in verdict.faults if f in SUSPECT]
        if suspect and not forced:
            return render_template("video.html", rows=None, refused=True, cam=cam, preset=preset, label=label,
                                   message=_t("video.suspect", faults="; ".join(
                                       tx.say(SUSPECT_CODES[f], {"device": cam.label}, _lang()) for f in suspect))), 409
        _store().add(cam.id, preset, frame, label=label, source=cam.options["video"])
        _rejudge(cam, preset, frame)
    except (DeviceError, BadFrame, ConfigError) as exc:
        error = i18n.command_error(exc, cam.label, _lang())
        if isinstance(exc, (DeviceError, BadFrame)):
            error["error"] = _t("camera.video.no_signal", device=cam.label)
        return render_template("video.html", rows=None, message=error["error"], detail=error.get("detail")), \
            400 if isinstance(exc, ConfigError) else 503
    count = len(_store().paths(cam.id, preset))
    return render_template("video.html", rows=None, message=_t(
        "video.stored", camera=i18n.label(cam.label, _lang()), preset=preset_name(preset, _lang()), count=count)), 201
