"""The panel's camera page through Flask's test client (and the panel's server, cheroot), against a real
simulated camera streaming MJPEG on loopback; the picture service that owns the readers."""
import socket
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from cheroot import wsgi

from vksroom.controller.config import parse
from vksroom.controller.pictures import Pictures
from vksroom.drivers.video.references import ReferenceStore
from vksroom.hil.scene import JUDGE_VIEW, OVERVIEW, Courtroom
from vksroom.hil.video_stream import VideoStreamServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def camera():
    aim = {"view": JUDGE_VIEW}
    srv = VideoStreamServer(Courtroom(), view_fn=lambda: aim["view"], size=(640, 360), fps=15).start()
    srv.aim = aim
    yield srv
    srv.stop()


@pytest.fixture()
def cfg(request, tmp_path):
    """The room's configuration: two cameras, one streaming from ``camera``; parametrised
    indirectly with a stream's URL (or "stalled": ``stalled_camera``'s), one camera on it."""
    video_url = getattr(request, "param", None)
    if video_url == "stalled":
        video_url = request.getfixturevalue("stalled_camera").url
    if video_url:
        return one_camera(tmp_path, video_url)
    camera = request.getfixturevalue("camera")
    camera.aim["view"] = JUDGE_VIEW
    camera.set_fault(None)
    return parse({
        "room": {"court_id": "ast-01", "courtroom": "12", "data_dir": str(tmp_path)},
        "devices": {
            "cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "label": "Judge camera",
                     "video": camera.url, "presets": {"judge": 1, "overview": 2}},
            "cam2": {"type": "camera", "url": "visca-ip://127.0.0.2"},           # no video: not shown
        },
    })


@pytest.fixture()
def pictures_settings():
    """Settings of the picture service over its defaults (parametrised indirectly)."""
    return {}


@pytest.fixture()
def room(cfg, tmp_path, pictures_settings):
    """What the panel's pages use of a controller: the room's picture service (stopped after the test)."""
    pictures = Pictures.for_room(cfg)
    for name, value in pictures_settings.items():
        setattr(pictures, name, value)
    yield SimpleNamespace(cfg=cfg, data_dir=tmp_path, pictures=pictures)
    pictures.stop()


def test_page_lists_cameras_with_video_in_each_language(client):
    ru = client.get("/video?lang=ru").get_data(as_text=True)
    assert "Изображение камер" in ru and "Сохранить как эталон" in ru and "Judge camera" in ru
    assert "во время заседания изображение камеры сравнивается с ним" in ru     # how to store a good one
    assert 'data-camera="cam1"' in ru and 'data-camera="cam2"' not in ru
    assert ">overview<" in ru and "№ overview" not in ru      # a role of the room's own, as its config names it
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


def one_camera(tmp_path, video_url):
    return parse({"room": {"court_id": "a", "courtroom": "1", "data_dir": str(tmp_path)},
                  "devices": {"cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "video": video_url}}})


@pytest.mark.parametrize("cfg", ["http://127.0.0.1:9/video.mjpg"], indirect=True)
def test_no_picture_says_so(client, monkeypatch):
    monkeypatch.setattr("vksroom.web.video.PICTURE_WAIT_S", 0.5)
    resp = client.get("/video/cam1/snapshot.jpg?lang=en")
    assert resp.status_code == 503 and resp.get_data(as_text=True) == "Camera: no picture"
    assert "no picture" not in client.get("/video/cam1/snapshot.jpg?lang=ru").get_data(as_text=True)


class StalledCamera:
    """A camera whose stream never answers: it accepts connections and sends nothing back."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/video.mjpg"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.connections.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture()
def stalled_camera():
    camera = StalledCamera()
    yield camera
    camera.close()


@pytest.mark.parametrize("cfg", ["stalled"], indirect=True)
@pytest.mark.parametrize("pictures_settings", [{"open_timeout_s": 600.0, "read_timeout_s": 600.0}], indirect=True)
def test_a_stalled_camera_does_not_hold_the_panels_request_thread(app, stalled_camera, monkeypatch):
    """The panel answers "no picture" in its own time, though the camera's stream would keep a
    reader waiting far longer than this test runs, and one reader serves every look."""
    camera = stalled_camera
    monkeypatch.setattr("vksroom.web.video.PICTURE_WAIT_S", 0.5)
    server = wsgi.Server(("127.0.0.1", 0), app, numthreads=1)   # the panel's server, one thread only
    server.prepare()
    serving = threading.Thread(target=server.serve, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{server.bind_addr[1]}"
    try:
        for _ in range(3):
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(f"{base}/video/cam1/snapshot.jpg?lang=en", timeout=30)
            assert answer.value.code == 503 and answer.value.read().decode() == "Camera: no picture"
        with urllib.request.urlopen(f"{base}/video?lang=en", timeout=30) as page:     # the thread is free
            assert page.status == 200
        assert len(camera.connections) == 1          # the service's one reader, not one per request
    finally:
        server.stop()       # then the serving thread ends by itself
        serving.join(5)
        camera.close()


def test_one_reader_while_someone_looks_stopped_when_nobody_does(camera, tmp_path):
    camera.set_fault(None)
    assert camera.wait_viewers(lambda n: n == 0, 10)        # the other tests' readers are gone
    served = camera.streams_served
    pictures = Pictures({"cam1": camera.url}, idle_s=0.3)
    try:
        first = pictures.picture("cam1", 5.0)
        second = pictures.picture("cam1", 5.0)
        assert second.seq > first.seq and pictures.reading() == ["cam1"]
        assert camera.streams_served == served + 1            # one connection for both looks
        assert camera.wait_viewers(lambda n: n == 0, 10)     # nobody looked for idle_s: released
        assert pictures.reading() == []
        assert pictures.picture("cam1", 5.0).image.shape == (360, 640, 3)    # a new look starts it again
        assert camera.streams_served == served + 2
    finally:
        pictures.stop()
    assert camera.wait_viewers(lambda n: n == 0, 10)


def test_page_asks_for_a_reference_where_the_preset_has_none(client, tmp_path):
    ru = client.get("/video?lang=ru").get_data(as_text=True)
    assert "Оценено без эталона: сохраните эталон для этой позиции" in ru
    ReferenceStore(tmp_path).add("cam1", "judge", np.full((90, 160, 3), 128, np.uint8), "full")
    assert "Оценено без эталона" not in client.get("/video?lang=ru").get_data(as_text=True)
    kk = client.get("/video?lang=kk&preset_cam1=overview").get_data(as_text=True)
    assert "Эталонсыз бағаланды" in kk


def test_the_verdict_on_the_picture_is_written_in_the_panel_language():
    from vksroom.drivers.video.quality import CHECKS, Analyzer
    from vksroom.web import i18n
    from vksroom.web.video import CHECK_WORDS, draw, verdict_lines

    assert set(CHECK_WORDS) == set(CHECKS)            # every check has its word on the picture
    assert all(i18n.translate(key, lang) != key for key in CHECK_WORDS.values() for lang in ("kk", "ru", "en"))
    frame = np.full((360, 640, 3), 128, np.uint8)
    verdict = Analyzer().analyze(frame)
    box = {lang: draw(frame, verdict, lang)[:200, :250].astype(int) for lang in ("kk", "ru", "en")}
    assert np.abs(box["ru"] - box["en"]).sum() > 0 and np.abs(box["ru"] - box["kk"]).sum() > 0
    # the picture says what it was compared with: no reference, or the preset's, with its lighting
    assert verdict_lines(verdict, "en", "judge")[1] == ("Judged without a reference: store one for this preset", None)
    from vksroom.drivers.video.quality import Reference

    against = Analyzer([Reference.from_image(frame, "20261202T001500123-dimmed")]).analyze(frame)
    assert verdict_lines(against, "ru", "judge")[1] == (
        "Сравнено с эталоном, сохранённым для позиции «Судья» (приглушённый свет)", True)
    # On a picture 320 px wide (a camera's small stream) every line, the longest ("Compared
    # with ...", "Judged without ...") too, is wrapped at its words into the box, the box inside
    # the picture, at a readable size; on a 16:9 one (180 px high) at a smaller size.
    from vksroom.web.video import BOX_PAD, layout

    for w, h in ((320, 240), (320, 180)):
        small = np.full((h, w, 3), 128, np.uint8)
        stored = [Reference.from_image(small, "20261202T001500123-dimmed")]
        for judged in (Analyzer().analyze(small), Analyzer(stored).analyze(small)):
            for lang in ("kk", "ru", "en"):
                lines = verdict_lines(judged, lang, "judge")
                box_w, box_h, rows = layout(lines, w, h)
                assert " ".join(row for row, *_ in rows).split() == " ".join(text for text, _ in lines).split()
                assert min(font.size for *_, font, _ in rows) >= 10
                drawn = draw(small, judged, lang, "judge").astype(int)
                shaded = (drawn == 44).all(axis=2)
                assert shaded[1].sum() == box_w and shaded[:, 1].sum() == box_h, (lang, w, h)
                assert (drawn[box_h:] == 128).all() and (drawn[:, box_w:] == 128).all()   # nothing outside the box
                ys, xs = np.nonzero(~shaded[:box_h, :box_w])                               # the words' pixels
                assert xs.min() >= BOX_PAD - 1 and xs.max() < min(box_w, w - BOX_PAD + 2), (lang, w, h, xs.max())
                assert ys.max() < box_h - 1
    # Without a reference a colourful view (a cat's fur) gives no neutral surface to judge
    # colour by: the picture says so instead of a score, in every language.
    from vksroom.hil.faults import _crop, load_photo

    colourful = Analyzer().analyze(_crop(load_photo("chelsea")))
    for lang in ("kk", "ru", "en"):
        line = next(text for text, _ in verdict_lines(colourful, lang)
                    if text.startswith(i18n.translate("video.check.cast", lang)))
        assert line.endswith(i18n.translate("video.not_judged", lang)) and "video.not_judged" not in line
    grey_scene = verdict_lines(Analyzer().analyze(_crop(load_photo("camera"))), "en")
    assert any(text.startswith("Colour: 0.") for text, _ in grey_scene), grey_scene
