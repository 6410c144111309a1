"""Reference snapshots per camera and preset, kept with the room's data.

Layout: ``DATA_DIR/video/references/<camera>/<preset>/<stamp>-<label>.png`` with a JSON
sidecar (when, label, source). Several per preset (lights full, lights dimmed); the
oldest beyond ``keep`` are dropped. Files are written atomically (temp file + rename).
"""
from __future__ import annotations

import builtins
import json
import os
import re
import time
from pathlib import Path

from vksroom.drivers.video.cv import cv2

from vksroom.drivers.errors import ConfigError
from vksroom.drivers.video.quality import BadFrame, Reference, normalize

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
KEEP = 4


def _safe(what: str, value) -> str:
    value = str(value)
    if not _NAME.match(value):
        raise ConfigError(f"{what} {value!r}: use 1-40 letters, digits, '_' or '-'")
    return value


class ReferenceStore:
    def __init__(self, data_dir):
        self.root = Path(data_dir) / "video" / "references"

    def folder(self, camera: str, preset) -> Path:
        return self.root / _safe("camera", camera) / _safe("preset", preset)

    def add(self, camera: str, preset, image, label: str = "", source: str = "", keep: int = KEEP) -> Path:
        """Store ``image`` as a reference of ``camera``/``preset``; return its path."""
        image = normalize(image)
        label = _safe("label", label) if label else "ref"
        folder = self.folder(camera, preset)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time() % 1:.3f}"[1:].replace(".", "")
        path = folder / f"{stamp}-{label}.png"
        tmp = folder / f".{stamp}-{label}.tmp.png"
        if not cv2.imwrite(str(tmp), image):
            raise BadFrame(f"could not write {tmp}")
        os.replace(tmp, path)
        meta = {"camera": camera, "preset": str(preset), "label": label, "source": source,
                "stored_at": time.time(), "width": int(image.shape[1]), "height": int(image.shape[0])}
        path.with_suffix(".json").write_text(json.dumps(meta, indent=1))
        for old in self.paths(camera, preset)[:-keep] if keep > 0 else []:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
        return path

    def paths(self, camera: str, preset) -> list[Path]:
        folder = self.folder(camera, preset)
        return sorted(folder.glob("*.png")) if folder.is_dir() else []

    def list(self, camera: str | None = None) -> list[dict]:
        out = []
        cams = [camera] if camera else sorted(p.name for p in self.root.glob("*") if p.is_dir())
        for cam in cams:
            cam_dir = self.root / _safe("camera", cam)
            for preset_dir in sorted(p for p in cam_dir.glob("*") if p.is_dir()):
                for p in sorted(preset_dir.glob("*.png")):
                    meta = {"camera": cam, "preset": preset_dir.name, "label": "", "path": str(p)}
                    try:
                        meta.update(json.loads(p.with_suffix(".json").read_text()))
                    except (OSError, ValueError):
                        pass
                    meta["path"] = str(p)
                    out.append(meta)
        return out

    def load(self, camera: str, preset) -> builtins.list[Reference]:   # `list` here is the method above
        """The references of one preset, features computed; unreadable files are skipped."""
        refs = []
        for p in self.paths(camera, preset):
            img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
            try:
                refs.append(Reference.from_image(img, p.stem))
            except BadFrame:
                continue
        return refs

    def clear(self, camera: str, preset) -> int:
        n = 0
        for p in self.paths(camera, preset):
            p.unlink(missing_ok=True)
            p.with_suffix(".json").unlink(missing_ok=True)
            n += 1
        return n
