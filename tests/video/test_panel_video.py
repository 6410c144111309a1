"""The panel's camera page through Flask's test client, against a real simulated camera
streaming MJPEG on loopback."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from vksroom.controller.config import parse
from vksroom.drivers.video.references import ReferenceStore
from vksroom.hil.scene import JUDGE_VIEW, OVERVIEW, Courtroom
from vksroom.hil.video_stream import VideoStreamServer
from vksroom.web import create_app

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def camera():
    aim = {"view": JUDGE_VIEW}
    srv = VideoStreamServer(Courtroom(), view_fn=lambda: aim["view"], size=(640, 360), fps=15).start()
    srv.aim = aim
    yield srv
    srv.stop()


@pytest.fixture()
def client(camera, tmp_path):
    camera.aim["view"] = JUDGE_VIEW
    camera.set_fault(None)
    cfg = parse({
        "room": {"court_id": "ast-01", "courtroom": "12", "data_dir": str(tmp_path)},
        "devices": {
            "cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "label": "Judge camera",
                     "video": camera.url, "presets": {"judge": 1, "overview": 2}},
            "cam2": {"type": "camera", "url": "visca-ip://127.0.0.2"},           # no video: not shown
        },
    })
    controller = SimpleNamespace(cfg=cfg, data_dir=tmp_path)
    return create_app(controller, {"TESTING": True}).test_client()


def test_page_lists_cameras_with_video_in_each_language(client):
    ru = client.get("/video?lang=ru").get_data(as_text=True)
    assert "Изображение камер" in ru and "Сохранить как эталон" in ru and "Judge camera" in ru
    assert 'data-camera="cam1"' in ru and 'data-camera="cam2"' not in ru
    assert "Камера суреттері" in client.get("/video?lang=kk").get_data(as_text=True)
    assert "confirm(" in client.get("/video?lang=en").get_data(as_text=True)


def test_snapshot_is_a_judged_picture_and_store_then_drift(client, camera, tmp_path):
    resp = client.get("/video/cam1/snapshot.jpg?preset=judge")
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(resp.data, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (360, 640, 3)
    box = img[:200, :250].astype(int)
    green = (box[:, :, 1] > 150) & (box[:, :, 0] < 130) & (box[:, :, 2] < 130)    # scores drawn in green
    assert green.sum() > 200
    resp = client.post("/video/cam1/reference", data={"preset": "judge", "label": "full"})
    assert resp.status_code == 201 and "Эталон сохранён" in resp.get_data(as_text=True)
    assert len(ReferenceStore(tmp_path).paths("cam1", "judge")) == 1
    assert client.get("/video/cam1/snapshot.jpg?preset=judge").headers["X-Verdict"] == "ok"
    camera.aim["view"] = OVERVIEW                         # the camera points elsewhere now
    settle(camera)
    resp = client.get("/video/cam1/snapshot.jpg?preset=judge")
    assert resp.headers["X-Verdict"] == "fault" and "drift" in resp.headers["X-Faults"]


def settle(camera, frames=2):
    """Wait until the camera has produced ``frames`` new frames (the fault is on the wire)."""
    n = camera.frames_made
    with camera._cond:
        assert camera._cond.wait_for(lambda: camera.frames_made >= n + frames, 5)


def test_black_picture_is_refused_until_confirmed_again(client, camera, tmp_path):
    camera.set_fault("black", 2)
    settle(camera)
    resp = client.post("/video/cam1/reference?lang=en", data={"preset": "judge"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "looks faulty (" in page and "black" in page and 'name="force" value="1"' in page
    assert ReferenceStore(tmp_path).paths("cam1", "judge") == []
    resp = client.post("/video/cam1/reference", data={"preset": "judge", "force": "1"})
    assert resp.status_code == 201 and len(ReferenceStore(tmp_path).paths("cam1", "judge")) == 1


def test_bad_requests_change_nothing(client, tmp_path):
    assert client.get("/video/cam2/snapshot.jpg").status_code == 404
    assert client.post("/video/nope/reference").status_code == 404
    assert client.get("/video/cam1/snapshot.jpg?preset=../etc").status_code == 400
    assert client.post("/video/cam1/reference", data={"preset": "judge", "label": "no spaces"}).status_code == 400
    assert not (tmp_path / "video").exists() or ReferenceStore(tmp_path).list() == []


def test_no_picture_says_so(tmp_path):
    cfg = parse({"room": {"court_id": "a", "courtroom": "1", "data_dir": str(tmp_path)},
                 "devices": {"cam1": {"type": "camera", "url": "visca-ip://127.0.0.1",
                                      "video": "http://127.0.0.1:9/video.mjpg"}}})
    import vksroom.web.video as video
    old, video.GRAB_TIMEOUT_S = video.GRAB_TIMEOUT_S, 0.5
    try:
        client = create_app(SimpleNamespace(cfg=cfg, data_dir=tmp_path), {"TESTING": True}).test_client()
        resp = client.get("/video/cam1/snapshot.jpg?lang=en")
        assert resp.status_code == 503 and resp.get_data(as_text=True) == "Camera: no picture"
        assert "no picture" not in client.get("/video/cam1/snapshot.jpg?lang=ru").get_data(as_text=True)
    finally:
        video.GRAB_TIMEOUT_S = old


def test_page_asks_for_a_reference_where_the_preset_has_none(client, tmp_path):
    ru = client.get("/video?lang=ru").get_data(as_text=True)
    assert "Оценено без эталона: сохраните эталон для этой позиции" in ru
    ReferenceStore(tmp_path).add("cam1", "judge", np.full((90, 160, 3), 128, np.uint8), "full")
    assert "Оценено без эталона" not in client.get("/video?lang=ru").get_data(as_text=True)
    kk = client.get("/video?lang=kk&preset_cam1=overview").get_data(as_text=True)
    assert "Эталонсыз бағаланды" in kk
