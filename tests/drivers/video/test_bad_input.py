"""Bad input gives a clear error (exit 2 from the CLI) or a correct verdict: never a crash or hang."""
import os

import cv2
import numpy as np
import pytest

from vksroom.cli import main
from vksroom.drivers.video.quality import BadFrame, judge, normalize


def run(capsys, *argv):
    code = main(["check-frame", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("content,name", [(b"", "empty.png"), (os.urandom(5000), "noise.png"),
                                           (b"not a video at all" * 100, "clip.mp4")])
def test_unreadable_files_exit_2_with_a_reason(tmp_path, capsys, content, name):
    p = tmp_path / name
    p.write_bytes(content)
    code, out, err = run(capsys, str(p), "--json")
    assert code == 2 and out == ""
    assert name in err and ("empty" in err or "not a readable" in err or "no decodable" in err)


def test_truncated_png_is_an_error_and_truncated_jpeg_is_judged(tmp_path, capsys, refs, write):
    png = write("ref.png", refs[0])
    data = open(png, "rb").read()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, str(tmp_path / "cut.png"))
    assert code == 2 and "cut.png" in err
    jpg = write("ref.jpg", refs[0])
    data = open(jpg, "rb").read()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    code, out, _ = run(capsys, str(tmp_path / "cut.jpg"), "--json", "--reference", png)
    # libjpeg decodes the top third and fills the rest flat grey: a fault, not a crash
    assert code == 1 and '"verdict": "fault"' in out


def test_missing_file_and_bad_reference(tmp_path, capsys, refs, write):
    code, _, err = run(capsys, str(tmp_path / "nope.png"))
    assert code == 2 and "no such file" in err
    img = write("a.png", refs[0])
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"xx")
    code, _, err = run(capsys, img, "--reference", str(bad))
    assert code == 2 and "reference" in err and "bad.png" in err


def test_usage_errors_exit_2(capsys, refs, write):
    with pytest.raises(SystemExit) as e:
        main(["check-frame"])
    assert e.value.code == 2
    assert main(["check-frame", write("a.png", refs[0]), "--rate", "0"]) == 2


def test_grey_only_16_bit_and_alpha_images_are_judged(capsys, refs, write):
    grey = cv2.cvtColor(refs[0], cv2.COLOR_BGR2GRAY)
    code, out, _ = run(capsys, write("grey.png", grey), "--json")
    assert code == 0, out
    assert '"cast": {"ok": true, "score": 0.0' in out            # no colour: no cast
    deep = grey.astype(np.uint16) * 257
    p = write("deep.png", deep)
    assert cv2.imread(p, cv2.IMREAD_UNCHANGED).dtype == np.uint16
    code, out, _ = run(capsys, p, "--json", "--reference", write("ref.png", refs[0]))
    assert code == 0, out
    bgra = cv2.cvtColor(refs[0], cv2.COLOR_BGR2BGRA)
    assert run(capsys, write("alpha.png", bgra))[0] == 0
    dark16 = (deep // 20).astype(np.uint16)                        # a dark 16-bit frame stays dark
    assert "dark" in judge(dark16).faults


@pytest.mark.timeout(60)
def test_8k_frame_is_judged_and_absurd_sizes_are_refused(capsys, refs, write):
    big = cv2.resize(refs[0], (7680, 4320), interpolation=cv2.INTER_LINEAR)
    code, out, _ = run(capsys, write("8k.jpg", big), "--json")
    assert code in (0, 1) and '"verdict"' in out
    with pytest.raises(BadFrame, match="too large"):
        normalize(np.zeros((100, 20000), np.uint8))
    with pytest.raises(BadFrame, match="too small"):
        judge(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(BadFrame, match="empty"):
        judge(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(BadFrame, match="shape"):
        judge(np.zeros((20, 20, 2), np.uint8))
    with pytest.raises(BadFrame, match="NaN"):
        judge(np.full((20, 20), np.nan, np.float32))
    with pytest.raises(BadFrame, match="not an image"):
        judge("picture.png")
    assert judge(np.ones((64, 64), np.float32) * 0.5).checks["black"].ok is False   # flat grey float
