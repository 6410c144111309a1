"""The panel's call quality (item 22): on the codec and hearing pages, the live figures of the
call and small graphs of loss and frame rate over it, read from a room in a hearing over a
real simulated codec; nothing to show without a call."""
from __future__ import annotations

import re

import pytest

from vksroom.hil.codec_sim import CiscoCodecSimulator
from vksroom.web import create_app
from support.qualitykit import QualityRoom

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def qroom(tmp_path):
    sim = CiscoCodecSimulator(username="admin", password="secret", answer_after_s=0.1).start()
    room = QualityRoom(tmp_path, sim, "cisco", limits={"loss_s": 300})
    yield room
    room.stop()
    sim.stop()


@pytest.fixture
def qclient(qroom):
    return create_app(qroom.room, {"TESTING": True}).test_client()


def _points(svg_class: str, html: str) -> list[tuple[float, float]]:
    m = re.search(rf'<svg class="graph {svg_class}".*?<polyline points="([^"]*)"', html, re.S)
    return [tuple(map(float, p.split(","))) for p in m.group(1).split()] if m and m.group(1) else []


def test_no_call_says_so(qclient):
    html = qclient.get("/codec/").get_data(as_text=True)
    assert 'id="call-quality"' in html and "Вызова нет: качество связи не измеряется" in html


def test_the_codec_and_hearing_pages_show_the_call_and_its_graphs(qroom, qclient):
    hid = qroom.hearing()
    qroom.sim.degrade("loss", 8.0)
    qroom.sim.degrade("fps", 12.0)
    assert qroom.wait_polls(3)
    live = qclient.get("/codec/quality.json").get_json()["codec"]
    assert (live["rx_loss_pct"], live["rx_fps"], live["size"]) == (8.0, 12.0, "1920x1080")
    for path in ("/codec/", f"/hearings/{hid}"):
        html = qclient.get(path).get_data(as_text=True)
        assert 'class="rx_loss_pct">8,0<' in html and 'class="rx_fps">12,0<' in html, path   # a decimal comma
        assert 'class="size">1920×1080<' in html
        loss, fps = _points("loss", html), _points("fps", html)
        assert len(loss) >= 3 and len(fps) >= 3
        # the newest point is the highest loss so far (lower y) and the lowest frame rate (higher y)
        assert loss[-1][1] < loss[0][1] and fps[-1][1] > fps[0][1]
    kk = qclient.get("/codec/?lang=kk").get_data(as_text=True)
    assert "Байланыс сапасы" in kk


def test_the_figures_go_with_the_hearing(qroom, qclient):
    hid = qroom.hearing()
    assert qclient.get("/codec/quality.json").get_json()["codec"]["rx_loss_pct"] == 0
    qroom.life.end(hid, "Секретарь")
    assert qroom.wait(lambda: qroom.of("hearing.ended"))
    assert qclient.get("/codec/quality.json").get_json() == {}
