"""Faults on real ptys and TCP: garbage, partial lines, overlong lines, slow and silent
devices, dropped connections. Nothing blocks or crashes; the device shows degraded with
the reason; the stream resynchronises; a lost device is back with no operator."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from vksroom.controller.devices import CheckContext
from vksroom.drivers.audio import open_audio
from vksroom.drivers.codec import open_codec
from vksroom.drivers.errors import DeviceError, DeviceTimeout

pytestmark = pytest.mark.timeout(40)


@pytest.fixture
def codec(cisco_sim, closing):
    c = open_codec("cisco", cisco_sim.url, username="admin", password="secret", timeout=1.5)
    closing(c)
    return c


def _until_ok(fn, seconds):
    """Call ``fn`` until it succeeds (the stream resynchronised) or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return fn()
        except DeviceError:
            if time.monotonic() > deadline:
                raise


def test_random_garbage_between_replies_is_dropped_and_reported(cisco_sim, codec):
    for _ in range(5):
        cisco_sim.send_garbage(300)
        assert codec.refresh()["call"] == "idle"
    assert "binary noise" in codec.status()["link_noise"]


def test_noise_glued_to_a_reply_is_cut_away(cisco_sim, codec):
    cisco_sim.corrupt_next_reply(b"\x00\xfe\x81\x03\x1b")
    assert codec.refresh()["connected"]
    assert codec.line.stats["noise"] >= 1


def test_random_noise_glued_to_replies_costs_at_most_a_request(cisco_sim, codec):
    for _ in range(5):
        cisco_sim.corrupt_next_reply(bytes(cisco_sim.rng.randrange(256) for _ in range(120)))
        try:
            codec.refresh()
        except DeviceTimeout:
            pass       # the reply's first line was unreadable: that one request fails...
        assert _until_ok(codec.refresh, 5)["connected"]   # ...and the next one works


def test_replies_trickling_in_partial_lines_are_reassembled(cisco_sim, codec):
    cisco_sim.chunk_size, cisco_sim.chunk_delay = 3, 0.002
    assert codec.refresh()["call"] == "idle"
    res = codec.test_call("1001", connect_timeout=4, hold_s=0.3)
    assert res.ok, res.reason


@pytest.mark.parametrize("terminated", [True, False])
def test_overlong_line_is_discarded_and_the_stream_resyncs(cisco_sim, codec, terminated):
    cisco_sim.send_overlong(20000, terminated=terminated)
    assert _until_ok(codec.refresh, 5)["connected"]
    assert codec.refresh()["connected"]
    assert "overlong" in codec.status()["link_noise"]


def test_adapter_shows_degraded_with_the_reason(cisco_sim, make_adapter):
    adapter = make_adapter("codec", cisco_sim.url, "cisco", username="admin", password="secret")
    cisco_sim.send_garbage(500)
    cisco_sim.send_overlong(9000)
    polled = _until_ok(adapter.poll, 5)
    assert "garbled" in polled["degraded"]
    link = {r.check: r for r in adapter.checks(CheckContext(time.monotonic() + 10, Path("/tmp")))}["link"]
    assert not link.ok and link.sentence("ru") == "Кодек: помехи на линии связи" and "garbled" in link.detail


def test_slow_replies_within_the_timeout_still_work(cisco_sim, codec):
    cisco_sim.reply_delay = 0.8
    assert codec.refresh()["connected"]


def test_too_slow_reply_is_a_timeout_naming_the_request(cisco_sim, codec):
    cisco_sim.reply_delay = 2.5
    with pytest.raises(DeviceTimeout, match="xStatus Call"):
        codec.refresh()                # a timeout, so given up before the reply came at 2.5 s
    cisco_sim.reply_delay = 0
    assert _until_ok(codec.refresh, 6)["connected"]     # the late reply does not confuse the next one


def test_silent_codec_is_seen_lost_within_3s_at_1s_polling_and_recovers(cisco_sim, make_adapter):
    adapter = make_adapter("codec", cisco_sim.url, "cisco", username="admin", password="secret")
    adapter.poll()
    cisco_sim.silent = True            # hung firmware: the port stays, answers stop
    t0 = time.monotonic()
    with pytest.raises(DeviceError):
        adapter.poll()                 # a poll started right away fails within its 1.5 s timeout
    assert time.monotonic() - t0 < 3
    cisco_sim.silent = False
    _until_ok(lambda: (adapter.connect(), adapter.poll()), 5)     # back within 5 s


def test_three_silent_requests_reopen_the_link_and_set_up_again(cisco_sim, closing):
    codec = open_codec("cisco", cisco_sim.url, username="admin", password="secret", timeout=0.4)
    closing(codec)
    cisco_sim.silent = True
    for _ in range(3):
        with pytest.raises(DeviceError):
            codec.refresh()
    cisco_sim.silent = False
    assert codec.line.wait_lost(2) or codec.line.stats["reconnects"] >= 1
    assert codec.line.wait_ready(5)
    # the serial session (and its login) lives on in the codec: the driver re-registers feedback
    assert sum(l == "xFeedback register /Status/Call" for l in cisco_sim.received) == 2


def test_dropped_tcp_connection_reconnects_and_meters_resume(closing):
    from vksroom.hil.audio_sim import ShureSimulator

    sim = ShureSimulator(channels=2, signals={1: "speech"})
    closing(sim.start())
    mic = open_audio("shure", sim.url, channels=[1, 2])
    closing(mic)
    mic.start_meters()
    assert mic.wait_samples(2, 2)
    sim.drop()
    assert mic.line.wait_lost(2)
    assert mic.line.wait_ready(3)
    with mic._cond:
        mic._samples[1].clear()
    assert mic.wait_samples(3, 3)


def test_tesira_garbage_and_unplug_during_meters(closing):
    from vksroom.hil.audio_sim import TesiraSimulator

    sim = TesiraSimulator(channels=2, signals={1: "speech", 2: "tone"})
    closing(sim.start())
    dsp = open_audio("tesira", sim.url, channels=[1, 2])
    closing(dsp)
    dsp.start_meters()
    for _ in range(5):
        sim.send_garbage(200)
    sim.send_overlong(8000, terminated=False)
    assert _until_ok(lambda: dsp.get_mute(1), 5) is False
    sim.unplug()
    assert dsp.line.wait_lost(3)
    sim.replug()
    assert dsp.line.wait_ready(5)
    with dsp._cond:
        dsp._samples[2].clear()
    assert dsp.wait_samples(3, 3)
    assert -22 < dsp.levels()[2] < -18
