"""The camera's own stream and snapshot addresses feed the picture check: the simulated
picture follows the ONVIF pan/tilt/zoom, a recalled preset shows what its references show,
and a camera pointing elsewhere is caught."""
import urllib.request

import cv2
import numpy as np
import pytest

from vksroom.controller.video import check_preset_video
from vksroom.drivers.video.capture import VideoSource
from vksroom.drivers.video.references import ReferenceStore
from vksroom.hil.onvif_camera import from_scene
from vksroom.hil.scene import JUDGE_VIEW, PLAINTIFF_VIEW

pytestmark = pytest.mark.timeout(120)
JUDGE = from_scene(JUDGE_VIEW)


@pytest.fixture
def seeing(make_sim, make_cam):
    sim = make_sim(video=True, fps=5.0)
    return sim, make_cam(sim.url)


def snapshot(cam) -> np.ndarray:
    """The camera's snapshot, taken after a frame was made since now (the stream says when)."""
    with VideoSource(cam.video_url(), name="cam") as source:
        source.grab(5.0)            # the picture the stream had ready
        source.grab(5.0)            # one made since
    with urllib.request.urlopen(cam.snapshot_uri(), timeout=5) as resp:
        assert resp.headers["Content-Type"] == "image/jpeg"
        data = resp.read()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "the snapshot is not a JPEG OpenCV can read"
    return image


def test_the_snapshot_decodes_and_follows_the_head(seeing):
    sim, cam = seeing
    cam.move_to(*JUDGE)
    at_judge = snapshot(cam)
    assert at_judge.shape == (360, 640, 3)
    cam.move_to(*from_scene(PLAINTIFF_VIEW))
    elsewhere = snapshot(cam)
    assert np.abs(at_judge.astype(int) - elsewhere.astype(int)).mean() > 20


def test_a_recalled_preset_passes_the_picture_check_and_a_wrong_view_fails_it(seeing, tmp_path):
    sim, cam = seeing
    url = cam.video_url()
    assert url.startswith("http://admin:admin-pass@127.0.0.1:")
    cam.move_to(*JUDGE)
    cam.store(1)
    with VideoSource(url, name="cam") as source:   # the reference, stored in a good session
        source.grab(5.0)
        ReferenceStore(tmp_path).add("cam", "judge", source.grab(5.0).image, label="good")
    cam.move_to(0.0, 0.0, 0.0)
    cam.recall(1)
    good = {r.check: r for r in check_preset_video("cam", "judge", url, tmp_path)}
    assert good["video.signal"].ok
    assert good["video.drift"].ok and good["video.blur"].ok, {k: r.detail for k, r in good.items()}

    cam.move_by(0.12, 0.0)          # about 20 degrees off the bench
    wrong = {r.check: r for r in check_preset_video("cam", "judge", url, tmp_path)}
    assert not wrong["video.drift"].ok
