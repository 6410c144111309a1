"""Tesira (pty) and Shure (TCP) drivers and the AudioAdapter against their simulators."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from vksroom.controller.devices import CheckContext, adapter_for
from vksroom.controller.devices.audio import parse_channels
from vksroom.drivers.audio import open_audio
from vksroom.drivers.errors import ConfigError, DeviceRejected

pytestmark = pytest.mark.timeout(30)

CHANNELS = {
    "judge": {"index": 1, "noise_floor_db": -55},
    "prosecutor": {"index": 2, "noise_floor_db": -55},
    "defence": {"index": 3, "noise_floor_db": -55},
    "witness": {"index": 4, "noise_floor_db": -55},
}


def _device(sim, closing):
    dev = open_audio(sim.model, sim.url, channels=[1, 2, 3, 4])
    closing(dev)
    return dev


@pytest.fixture
def dsp_adapter(audio_sim, make_adapter):
    def make(channels=CHANNELS, **options):
        return make_adapter("dsp", audio_sim.url, audio_sim.model, id="mics", connect=False, channels=channels,
                            window_s=0.6, **options)
    return make


def _ctx(seconds=10):
    return CheckContext(deadline=time.monotonic() + seconds, data_dir=Path("/tmp"))


def test_mute_get_set_and_gain(audio_sim, closing):
    dev = _device(audio_sim, closing)
    audio_sim.mutes[2] = True
    assert dev.get_mute(2) is True and dev.get_mute(1) is False
    dev.set_mute(2, False)
    assert audio_sim.mutes[2] is False
    dev.set_gain(3, -4.5)
    assert audio_sim.gains[3] == pytest.approx(-4.5) and dev.get_gain(3) == pytest.approx(-4.5)


def test_single_level_read_follows_the_signal(audio_sim, closing):
    dev = _device(audio_sim, closing)
    assert dev.get_level(2) < -55          # silence
    assert dev.get_level(3) > -1.5         # clipping
    assert -22 < dev.get_level(4) < -18    # tone


def test_meter_stream_gives_at_least_five_updates_a_second(audio_sim, closing):
    dev = _device(audio_sim, closing)
    dev.start_meters()
    t0 = time.monotonic()
    assert dev.wait_samples(6, 3)
    assert time.monotonic() - t0 < 1.2
    levels = dev.levels()
    assert set(levels) == {1, 2, 3, 4} and all(v is not None for v in levels.values())


def test_bad_channel_or_gain_changes_nothing(audio_sim, closing):
    dev = _device(audio_sim, closing)
    sent = len(audio_sim.received)
    with pytest.raises(ConfigError):
        dev.set_mute(0, True)
    with pytest.raises(ConfigError):
        dev.set_gain(1, 99)
    assert len(audio_sim.received) == sent


def test_device_refusal_is_a_clear_error(audio_sim, closing):
    dev = _device(audio_sim, closing)
    with pytest.raises(DeviceRejected):
        dev.get_mute(9)     # the simulator has 4 channels


def test_check_passes_speech_and_tone_names_dead_and_clipping(audio_sim, dsp_adapter):
    adapter = dsp_adapter()
    adapter.connect()
    res = {r.check: r for r in adapter.checks(_ctx())}
    assert res["reachable"].ok
    assert res["channel.judge"].ok and res["channel.witness"].ok
    dead, clip = res["channel.prosecutor"], res["channel.defence"]
    # said by the microphone's name for people (its channel number without a label), the
    # measured levels to one decimal; the driver's dBFS figures stay in the detail
    assert not dead.ok and dead.code == "dsp.channel.dead"
    assert re.fullmatch(r"Аудиопроцессор: нет сигнала с микрофона «Микрофон 2» за 0,6 с \(пик -\d+(,\d)? дБ\)",
                        dead.sentence("ru")), dead.sentence("ru")
    assert dead.sentence("kk").startswith("Дыбыс процессоры: «2-микрофон» микрофонынан 0,6 с ішінде сигнал болмады")
    assert "prosecutor" in dead.detail and "dBFS" in dead.detail
    assert not clip.ok and clip.code == "dsp.channel.clipping"
    assert clip.sentence("ru").startswith("Аудиопроцессор: перегрузка микрофона «Микрофон 3» (пик ")


def test_check_names_a_muted_microphone_and_an_open_spare(audio_sim, dsp_adapter):
    audio_sim.mutes[1] = True
    channels = {"judge": {"index": 1}, "spare": {"index": 4, "expect_unmuted": False}}
    adapter = dsp_adapter(channels=channels)
    adapter.connect()
    res = {r.check: r for r in adapter.checks(_ctx())}
    assert res["channel.judge"].code == "dsp.channel.muted"
    assert res["channel.judge"].sentence("ru") == "Аудиопроцессор: микрофон «Микрофон 1» выключен"
    assert res["channel.spare"].code == "dsp.channel.unmuted" and not res["channel.spare"].ok
    assert res["channel.spare"].sentence("kk") == "Дыбыс процессоры: «4-микрофон» қосалқы кірісі өшірілмеген"


def test_speaking_into_each_microphone_in_turn_passes(audio_sim, dsp_adapter):
    audio_sim.set_signal(2, [("silence", 0.25), ("speech", 0.25)])
    audio_sim.set_signal(3, [("speech", 0.25), ("silence", 0.25)])
    adapter = dsp_adapter(channels={"a": {"index": 2, "noise_floor_db": -55},
                                                    "b": {"index": 3, "noise_floor_db": -55}})
    adapter.connect()
    res = {r.check: r for r in adapter.checks(_ctx())}
    assert res["channel.a"].ok and res["channel.b"].ok, [r.reason for r in res.values()]


def test_panel_helpers_levels_and_mute(audio_sim, dsp_adapter):
    adapter = dsp_adapter()
    adapter.connect()
    assert adapter._driver().wait_samples(2, 3)
    assert set(adapter.levels()) == set(CHANNELS)
    adapter.set_mute("witness", True)
    assert audio_sim.mutes[4] is True and adapter.poll()["mutes"]["witness"] is True
    with pytest.raises(ConfigError, match="no channel named"):
        adapter.set_mute("nobody", True)


def test_meter_stream_resumes_after_unplug(audio_sim, dsp_adapter):
    adapter = dsp_adapter()
    adapter.connect()
    dev = adapter._driver()
    audio_sim.unplug()
    assert dev.line.wait_lost(3)
    audio_sim.replug()
    assert dev.line.wait_ready(5)
    with dev._cond:
        dev._samples[1].clear()
    assert dev.wait_samples(3, 3), "meters did not resume on the new session within 3 s"


@pytest.mark.parametrize("table, words", [
    ({}, "at least one channel"),
    ({"a": {"index": 0}}, "channel number 1-64"),
    ({"a": {"index": 1}, "b": {"index": 1}}, "already used by a"),
    ({"a": {"index": 1, "floor": -50}}, "unknown key"),
    ({"a": {"index": 1, "expect_unmuted": "yes"}}, "wrong type"),
])
def test_channel_table_errors_name_the_key(table, words):
    with pytest.raises(ConfigError, match=words):
        parse_channels(table)


def test_room_config_accepts_the_channel_table_and_tesira_blocks():
    from vksroom.controller.config import parse

    cfg = parse({"room": {"court_id": "almaty-1", "courtroom": "101"}, "devices": {
        "dsp": {"type": "dsp", "model": "tesira", "url": "serial:///dev/serial/by-id/usb-Biamp?baud=115200",
                "window_s": 5, "meter_rate_ms": 100, "blocks": {"mute_block": "Mixer2"},
                "channels": {"judge": {"index": 1, "noise_floor_db": -58, "label": {"kk": "Судья", "ru": "Судья"}}}},
        "codec": {"type": "codec", "model": "cisco", "url": "/dev/serial/by-id/usb-Cisco", "far_end": "1001",
                  "connect_timeout_s": 20, "hold_s": 5}}})
    adapter = adapter_for(cfg.devices["dsp"])
    assert adapter.channels["judge"].noise_floor_db == -58
