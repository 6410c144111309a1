"""check-frame's JSON contract and exit codes on real files, and the reference command."""
import json

import cv2
import numpy as np
import pytest

from vksroom.cli import main
from vksroom.hil.faults import apply, _crop, jpeg, sensor_noise


def check(capsys, *argv):
    code = main(["check-frame", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract_ok_and_fault(capsys, refs, write):
    ref = write("ref.png", refs[0])
    code, out, _ = check(capsys, write("good.jpg", refs[0], [cv2.IMWRITE_JPEG_QUALITY, 80]), "--reference", ref, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "ok" and doc["faults"] == []
    assert set(doc) == {"verdict", "faults", "checks"}
    code, out, _ = check(capsys, write("blur.png", apply(refs[0], "blur", 2)), "--reference", ref, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "fault" and "blur" in doc["faults"]
    assert doc["checks"]["blur"]["ok"] is False
    assert doc["checks"]["blur"]["score"] < doc["checks"]["blur"]["threshold"]


def test_reference_folder_and_human_output(capsys, photo, refs, write, tmp_path):
    folder = tmp_path / "refs"
    folder.mkdir()
    for i, r in enumerate(refs):
        cv2.imwrite(str(folder / f"r{i}.png"), r)
    moved = write("moved.jpg", jpeg(_crop(photo, dx=0.1), 85))
    code, out, _ = check(capsys, moved, "--reference", str(folder))
    assert code == 1 and "FAULT: drift" in out and "against 2 reference(s)" in out


@pytest.mark.timeout(60)
def test_video_file_with_a_frozen_stretch_is_a_fault(capsys, photo, tmp_path):
    view = cv2.resize(_crop(photo), (320, 240))
    rng = np.random.default_rng(0)
    path = str(tmp_path / "clip.avi")
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    assert w.isOpened()
    live = [sensor_noise(view, 2.0, rng) for _ in range(20)]
    for f in live:
        w.write(f)
    for _ in range(40):                     # 4 s of the very same picture
        w.write(live[-1])
    w.release()
    code, out, _ = check(capsys, path, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["faults"] == ["frozen"]
    assert doc["checks"]["frozen"]["score"] >= 3.0
    # the first two seconds alone are live
    code, out, _ = check(capsys, path, "--json", "--seconds", "1.9")
    assert code == 0, out


def test_mp4_clip_is_read(capsys, photo, tmp_path):
    view = cv2.resize(_crop(photo), (320, 240))
    path = str(tmp_path / "clip.mp4")
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    assert w.isOpened()
    rng = np.random.default_rng(1)
    for _ in range(10):
        w.write(sensor_noise(view, 2.0, rng))
    w.release()
    code, out, _ = check(capsys, path, "--json")
    assert code == 0, out


def test_reference_add_list_keeps_newest(capsys, refs, write, tmp_path):
    src = write("ref.png", refs[0])
    data = str(tmp_path / "data")
    for label in ("full", "dimmed", "full", "full", "full"):
        assert main(["reference", "add", src, "--camera", "cam1", "--preset", "judge", "--label", label,
                     "--data-dir", data]) == 0
    capsys.readouterr()
    assert main(["reference", "list", "--data-dir", data, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and {r["preset"] for r in rows} == {"judge"}
    black = write("black.png", np.zeros((240, 320, 3), np.uint8))
    assert main(["reference", "add", black, "--camera", "cam1", "--preset", "judge", "--data-dir", data]) == 1
    assert "not stored" in capsys.readouterr().err
    assert main(["reference", "add", src, "--camera", "../etc", "--preset", "1", "--data-dir", data]) == 2
    # stored references are usable by check-frame directly
    folder = rows[0]["path"].rsplit("/", 1)[0]
    code, _, _ = check(capsys, src, "--reference", folder)
    assert code == 0
