"""Call statistics from both codec models, over real ptys, in the one neutral model: healthy
figures during a call, each scripted degradation seen as the figure it changes, nothing
without a call, and the test call keeping what it read while it held the call."""
from __future__ import annotations

import pytest

from vksroom.drivers.codec import open_codec
from vksroom.drivers.codec.cisco import media_quality

pytestmark = pytest.mark.timeout(30)

NUMBERS = {"cisco": "1001", "poly": "2001"}


@pytest.fixture(params=["cisco", "poly"])
def codec_and_sim(request, cisco_sim, poly_sim, closing):
    model = request.param
    if model == "cisco":
        sim, codec = cisco_sim, open_codec("cisco", cisco_sim.url, username="admin", password="secret")
    else:
        sim, codec = poly_sim, open_codec("poly", poly_sim.url, password="pw")
    closing(codec)
    return model, codec, sim


def _connected(codec, number):
    call_id = codec.dial(number)
    assert codec.wait_call(call_id, lambda a, e: a is not None and a.state == "connected", 5)
    return call_id


def test_no_call_no_figures(codec_and_sim):
    _, codec, _ = codec_and_sim
    assert codec.call_quality() is None


def test_a_healthy_call_reads_as_healthy_figures(codec_and_sim):
    model, codec, sim = codec_and_sim
    call_id = _connected(codec, NUMBERS[model])
    q = codec.call_quality()
    assert q.call_id == call_id
    assert q.rx_loss_pct == 0 and q.jitter_ms == 3
    assert (q.rx_width, q.rx_height, q.rx_fps) == (1920, 1080, 30)
    assert q.rx_audio is True
    assert q.negotiated_kbps == sim.call_rate_kbps
    assert 0.85 <= q.rate_ratio <= 1.0


@pytest.mark.parametrize("kind, value, seen", [
    ("loss", 12.0, lambda q: q.rx_loss_pct == pytest.approx(12.0, abs=0.3)),
    ("jitter", 140.0, lambda q: q.jitter_ms == 140),
    ("fps", 4.0, lambda q: q.rx_fps == 4),
    ("rate", 0.2, lambda q: q.rate_ratio < 0.25),
    ("sound", None, lambda q: q.rx_audio is False),
    ("frozen", None, lambda q: q.rx_fps == 0 and q.rate_ratio < 0.1),
])
def test_each_degradation_shows_in_its_figure_and_goes_when_restored(codec_and_sim, kind, value, seen):
    model, codec, sim = codec_and_sim
    _connected(codec, NUMBERS[model])
    healthy = codec.call_quality()
    assert not seen(healthy)
    sim.degrade(kind, value)
    assert seen(codec.call_quality())
    sim.restore(kind)
    assert not seen(codec.call_quality())


def test_a_timed_loss_burst_ends_by_itself(codec_and_sim):
    model, codec, sim = codec_and_sim
    _connected(codec, NUMBERS[model])
    sim.degrade("loss", 20.0, seconds=0.3)
    assert codec.call_quality().rx_loss_pct > 15
    assert sim.wait_for(lambda: "loss" not in sim.degraded, 3)
    assert codec.call_quality().rx_loss_pct == 0


def test_the_test_call_keeps_the_figures_it_read(codec_and_sim):
    model, codec, sim = codec_and_sim
    sim.degrade("loss", 6.0)
    res = codec.test_call(NUMBERS[model], connect_timeout=5, hold_s=1.2)
    assert res.ok
    assert res.quality, "no statistics read while the call was held"
    assert all(q.rx_loss_pct == pytest.approx(6.0, abs=0.3) for q in res.quality)


def test_cisco_rows_without_traffic_do_not_divide_by_zero():
    rows = [{"Direction": "Incoming", "Type": "Audio", "Audio Protocol": "Opus",
             "Netstat LastIntervalLost": "0", "Netstat LastIntervalReceived": "0"}]
    q = media_quality("3", rows, {})
    assert q.rx_loss_pct is None and q.rx_audio is False and q.rx_fps is None
