"""Tesira (pty) and Shure (TCP) drivers and the AudioAdapter against their simulators."""
from __future__ import annotations

import re
import threading
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
    adapter.hold_meters("panel", 30)          # as the panel's meter page does
    assert adapter._driver().wait_samples(2, 3)
    assert set(adapter.levels()) == set(CHANNELS)
    adapter.set_mute("witness", True)
    assert audio_sim.mutes[4] is True and adapter.poll()["mutes"]["witness"] is True
    with pytest.raises(ConfigError, match="no channel named"):
        adapter.set_mute("nobody", True)


def _mute_news(dev) -> threading.Event:
    """Set when the device tells of a mute change by itself (no request of ours asked)."""
    news = threading.Event()
    dev.on_event(lambda event: event["kind"] == "mute" and news.set())
    return news


def _mute_reads(sim, since: int) -> list[str]:
    return [line for line in sim.received[since:] if "mute" in line.lower() and "get" in line.lower()]


def test_a_mute_pressed_on_the_device_is_told_without_asking(audio_sim, closing):
    dev = _device(audio_sim, closing)
    assert dev.mutes == {1: False, 2: False, 3: False, 4: False}
    news, asked = _mute_news(dev), len(audio_sim.received)
    audio_sim.mutes[2] = True                   # pressed on the DSP / the microphone itself
    assert news.wait(2), "the device did not tell of the mute within 2 s"
    assert dev.mutes[2] is True and not _mute_reads(audio_sim, asked)


def test_idle_the_adapter_asks_nothing_and_meters_run_fast_only_while_wanted(audio_sim, dsp_adapter):
    adapter = dsp_adapter()
    adapter.connect()
    dev, pause = adapter._driver(), threading.Event()
    asked = len(audio_sim.received)
    for _ in range(4):                          # polls in a row, as the coordinator's
        assert adapter.poll()["mutes"] == {name: False for name in CHANNELS}
        pause.wait(0.2)
    assert audio_sim.received[asked:] == [] and dev.stream_ms == 2000      # pushed values, a slow stream
    adapter.hold_meters("panel", 0.3)          # the meter page is open for 0.3 s
    with dev._cond:
        dev._samples[1].clear()
    assert dev.wait_samples(5, 1.5)             # live: 5 readings (0.4 s at least) within 1.5 s
    adapter.poll()                              # the page is closed by now
    assert dev.stream_ms == 2000 and adapter.levels()["judge"] is not None


def test_subscriptions_are_made_again_after_a_replug(audio_sim, dsp_adapter):
    adapter = dsp_adapter()
    adapter.connect()
    adapter.hold_meters("panel", 30)
    dev = adapter._driver()
    audio_sim.unplug()
    assert dev.line.wait_lost(3)
    audio_sim.replug()
    assert dev.line.wait_ready(5)
    with dev._cond:
        dev._samples[1].clear()
    assert dev.wait_samples(3, 3), "meters did not resume on the new session within 3 s"
    news = _mute_news(dev)
    audio_sim.mutes[3] = True
    assert news.wait(2) and adapter.poll()["mutes"]["defence"] is True


def test_a_dsp_restarted_on_a_link_that_stayed_up_is_subscribed_again(audio_sim, dsp_adapter):
    adapter = dsp_adapter(idle_meter_rate_ms=500)
    adapter.connect()
    dev, pause = adapter._driver(), threading.Event()
    audio_sim.reboot()                          # the port stays open; the DSP forgot our subscriptions
    sessions = audio_sim.sessions_started
    deadline = time.monotonic() + 5
    while not dev.stream_stale() and time.monotonic() < deadline:
        pause.wait(0.2)
    assert dev.stream_stale(), "the stream did not fall silent after the reboot"
    adapter.poll()                              # the DSP answers, its stream is silent: subscribe again
    assert not dev.stream_stale() and audio_sim.sessions_started == sessions      # on the same link
    news = _mute_news(dev)
    audio_sim.mutes[1] = True
    assert news.wait(2) and adapter.poll()["mutes"]["judge"] is True
    with dev._cond:
        dev._samples[4].clear()
    assert dev.wait_samples(1, 1.5)


GARBLED_MUTE_PUSH = {"tesira": '! "publishToken":"vks_mute_2" "val\x00\x1bue":true', "shure": "< REP 2 \x00\x1bON >"}


def test_garbage_is_ignored_and_a_garbled_mute_push_is_read_back(dsp_adapter, audio_sim):
    adapter = dsp_adapter()
    adapter.connect()
    dev = adapter._driver()
    for _ in range(3):
        audio_sim.send_garbage(200)
    audio_sim.broadcast('! "publishToken":"vks_mute_2" "value":maybe', "< REP 2 AUDIO_MUTE MAYBE >",
                        "< SAMPLE 0x1 zz >")
    dev.get_gain(1)                             # (its reply comes after all that: read by now)
    assert adapter.poll()["mutes"]["prosecutor"] is False       # nonsense changes nothing
    # a mute changed on the device whose news arrives garbled
    for session in audio_sim.sessions:          # (the simulator's own push of it held back)
        session.state.get("subs", {}).pop("vks_mute_2", None)
        session.state.get("told", {})[2] = True
    audio_sim.mutes[2] = True
    audio_sim.broadcast(GARBLED_MUTE_PUSH[audio_sim.model])
    dev.get_gain(1)
    polled = adapter.poll()                     # noise on the line: every mute is read back
    assert polled["mutes"]["prosecutor"] is True and "garbled" in polled["degraded"]


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


def test_an_idle_meter_rate_that_would_hide_a_dead_dsp_is_refused():
    from vksroom.controller.config import ConfigInvalid, parse

    def room(**dsp):
        return {"room": {"court_id": "almaty-1", "courtroom": "101"}, "devices": {"dsp": {
            "type": "dsp", "model": "shure", "url": "tcp://10.0.0.5:2202", "channels": {"judge": {"index": 1}}, **dsp}}}

    assert parse(room(idle_meter_rate_ms=1000)).devices["dsp"].options["idle_meter_rate_ms"] == 1000
    with pytest.raises(ConfigInvalid) as bad:
        parse(room(idle_meter_rate_ms=60000))
    assert bad.value.errors == ["devices.dsp.idle_meter_rate_ms: must be from meter_rate_ms to 5000, got 60000"]
