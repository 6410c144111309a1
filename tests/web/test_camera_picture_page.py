"""The camera page shows the camera's live picture with the verdict on it beside the arrow
pad, and each preset button the stored reference's thumbnail (a simulated VISCA camera and a
simulated MJPEG stream, both on loopback)."""
import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from support.visca_sims import make_sim  # noqa: F401  (fixture)
from vksroom.controller.config import parse
from vksroom.controller.devices import adapter_for
from vksroom.controller.pictures import Pictures
from vksroom.drivers.video.references import ReferenceStore
from vksroom.hil.scene import JUDGE_VIEW, Courtroom
from vksroom.hil.video_stream import VideoStreamServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def stream():
    srv = VideoStreamServer(Courtroom(), view_fn=lambda: JUDGE_VIEW, size=(640, 360), fps=15).start()
    yield srv
    srv.stop()


@pytest.fixture
def room(make_sim, stream, tmp_path):
    sim = make_sim("visca-ip")
    cfg = parse({"room": {"court_id": "ast-01", "courtroom": "12", "data_dir": str(tmp_path)},
                 "devices": {"cam1": {"type": "camera", "url": sim.url, "label": "Камера судьи", "video": stream.url,
                                      "presets": {"judge": 1, "witness": 2}}}})
    adapter = adapter_for(cfg.devices["cam1"], tmp_path)
    adapter.connect()
    pictures = Pictures.for_room(cfg)
    yield SimpleNamespace(cfg=cfg, data_dir=tmp_path, pictures=pictures, adapter=lambda d: adapter,
                          device_ids=lambda: ["cam1"], run_on=lambda d, fn, timeout=10.0: fn(adapter))
    pictures.stop()
    adapter.close()


def test_the_camera_page_shows_the_live_picture_its_verdict_and_reference_thumbnails(client, tmp_path):
    page = client.get("/camera/cam1").get_data(as_text=True)
    img = re.search(r'<img class="live" id="camera-picture" src="([^"]+)" data-refresh', page)
    assert img and "/video/cam1/snapshot.jpg?preset=judge" in img.group(1)
    assert page.index('id="camera-picture"') < page.index('id="pad"')       # beside the arrow pad
    assert 'class="thumb"' not in page                                       # no reference stored yet
    shot = client.get(img.group(1).replace("&amp;", "&"))
    assert shot.status_code == 200 and shot.mimetype == "image/jpeg"
    plain = cv2.imdecode(np.frombuffer(shot.data, np.uint8), cv2.IMREAD_COLOR)
    drawn = cv2.imdecode(np.frombuffer(client.get("/video/cam1/snapshot.jpg?preset=judge").data, np.uint8),
                         cv2.IMREAD_COLOR)
    # the page's picture carries no English score box (the verdict is in words beside it)
    assert plain[:150, :250].mean() > drawn[:150, :250].mean() + 20
    regions = client.get("/camera/cam1?live=1").get_json()["regions"]
    assert 'data-verdict="ok"' in regions["camera-verdict"] and "ИСПРАВНО" in regions["camera-verdict"]
    # "good" was judged without a reference: the verdict says so and links to storing one for
    # this preset, on the pictures page with the camera and the preset chosen
    assert "Оценено без эталона: сохраните эталон для этой позиции" in regions["camera-verdict"]
    link = re.search(r'<a class="big" id="store-reference" href="([^"]+)">Сохранить эталон для позиции «Судья»</a>',
                     regions["camera-verdict"])
    assert link, regions["camera-verdict"]
    form_page = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    section = form_page[form_page.index('id="video-cam1"'):]
    assert '<option value="judge" selected>' in section
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*><input type="hidden" name="csrf_token" '
                     r'value="([^"]+)">\s*<input type="hidden" name="preset" value="([^"]+)">', section)
    assert form and form.group(3) == "judge", section
    stored = client.post(form.group(1), data={"csrf_token": form.group(2), "preset": "judge", "label": "full"})
    assert stored.status_code == 201
    # at once, before the camera page's next picture: the picture just stored was judged against it
    verdict = client.get("/camera/cam1?live=1").get_json()["regions"]["camera-verdict"]
    assert "Сравнено с эталоном, сохранённым для позиции «Судья» (полный свет)" in verdict
    assert 'data-verdict="ok"' in verdict                                   # the picture matches it
    assert "Оценено без эталона" not in verdict and 'id="store-reference"' not in verdict
    page = client.get("/camera/cam1").get_data(as_text=True)
    thumbs = re.findall(r'<img class="thumb" src="([^"]+)"', page)
    assert thumbs == ["/video/cam1/reference/judge.jpg"]                    # the witness preset has none
    thumb = client.get(thumbs[0])
    picture = cv2.imdecode(np.frombuffer(thumb.data, np.uint8), cv2.IMREAD_COLOR)
    assert thumb.mimetype == "image/jpeg" and max(picture.shape[:2]) == 160
    stored = cv2.imread(str(ReferenceStore(tmp_path).paths("cam1", "judge")[-1]))
    small = cv2.resize(stored, (picture.shape[1], picture.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - picture.astype(int)).mean() < 8       # it is that reference
    assert client.get("/video/cam1/reference/witness.jpg").status_code == 404
    # recalling a preset judges the picture against that preset
    page = client.post("/camera/cam1/recall/witness", follow_redirects=True).get_data(as_text=True)
    assert "snapshot.jpg?preset=witness" in page
