"""Link quality during a hearing (item 22) over a real simulated codec on a pty: each kind of
degradation, once it has lasted the configured duration (not before, and within one poll
more), recommends a technical break naming what degraded with the measured figures; a short
glitch raises nothing; the hearing record keeps the figures before and after a reconnect."""
from __future__ import annotations

import time

import pytest

from vksroom.controller import events as ev
from vksroom.controller.config import ConfigInvalid, parse
from vksroom.hil.codec_sim import CiscoCodecSimulator, PolyCodecSimulator
from support.qualitykit import LIMITS, QualityRoom

pytestmark = pytest.mark.timeout(60)

SLACK_S = 1.0     # the room thread and the pty between the sample and the event, on a shared machine


def watch_alarms(qroom, kind: str) -> list[str]:
    """The in-hearing watch's alarms announced as ``kind`` (not the missing test session's)."""
    return sorted(a["alarm"]["key"] for a in qroom.of(kind) if a["alarm"]["key"].startswith("watch:"))


@pytest.fixture(params=["cisco", "poly"])
def qroom(request, tmp_path):
    if request.param == "cisco":
        sim = CiscoCodecSimulator(username="admin", password="secret", answer_after_s=0.1).start()
    else:
        sim = PolyCodecSimulator(password="pw", answer_after_s=0.1).start()
    room = QualityRoom(tmp_path, sim, request.param)
    yield room
    room.stop()
    sim.stop()


@pytest.mark.parametrize("kind, value, check, figure", [
    ("loss", 12.0, "quality.loss", "rx_loss_pct"),
    ("jitter", 140.0, "quality.jitter", "jitter_ms"),
    ("fps", 4.0, "quality.fps", "rx_fps"),
    ("rate", 0.2, "quality.rate", "rate_ratio"),
    ("sound", None, "quality.sound", "rx_audio"),
    ("frozen", None, "quality.fps", "rx_fps"),
])
def test_a_lasting_degradation_recommends_a_break_with_its_figures(qroom, kind, value, check, figure):
    hid = qroom.hearing()
    assert qroom.of(ev.BREAK_RECOMMENDED) == []
    onset = time.monotonic()
    qroom.sim.degrade(kind, value)
    lasts = LIMITS[{"quality.loss": "loss_s", "quality.jitter": "jitter_s", "quality.fps": "fps_s",
                    "quality.rate": "rate_s", "quality.sound": "sound_s"}[check]]
    assert qroom.wait(lambda: qroom.of(ev.BREAK_RECOMMENDED), lasts + LIMITS["poll_s"] + SLACK_S + 2)
    took = qroom.at(ev.BREAK_RECOMMENDED)[0] - onset
    assert lasts <= took <= lasts + LIMITS["poll_s"] + SLACK_S, took
    [brk] = qroom.of(ev.BREAK_RECOMMENDED)
    assert (brk["hearing_id"], brk["device"], brk["check"]) == (hid, "codec", check)
    measured = brk["evidence"]["value"]
    assert figure in measured and measured["call_id"]
    if value is not None and kind != "rate":
        assert measured[figure] == pytest.approx(value, abs=0.3)
    assert qroom.life.break_recommended(hid)["check"] == check
    # quality returns: the degradation's alarm closes, the record says so
    qroom.sim.restore()
    assert qroom.wait(lambda: watch_alarms(qroom, ev.ALARM_CLEARED) == watch_alarms(qroom, ev.ALARM_RAISED), 5)
    assert "quality.restored" in [r["event"] for r in qroom.life.history.rows(hid)]
    assert qroom.wait(lambda: qroom.of(ev.BREAK_WITHDRAWN), 5)    # nothing degrades: the recommendation stops
    [withdrawn] = qroom.of(ev.BREAK_WITHDRAWN)
    assert (withdrawn["hearing_id"], withdrawn["check"]) == (hid, check)
    assert qroom.life.break_recommended(hid) is None


def test_a_glitch_shorter_than_the_duration_raises_nothing(qroom):
    qroom.hearing()
    qroom.sim.degrade("loss", 30.0, seconds=LIMITS["loss_s"] / 3)
    assert qroom.wait_polls(1)
    assert qroom.sim.wait_for(lambda: "loss" not in qroom.sim.degraded, 5)
    polls = int((LIMITS["loss_s"] + 1) / LIMITS["poll_s"])    # well past the duration, quality back
    assert qroom.wait_polls(polls)
    assert qroom.of(ev.BREAK_RECOMMENDED) == []
    assert watch_alarms(qroom, ev.ALARM_RAISED) == []


def test_the_record_keeps_quality_before_and_after_a_reconnect(qroom):
    hid = qroom.hearing()
    qroom.sim.degrade("loss", 15.0)
    assert qroom.wait(lambda: qroom.of(ev.BREAK_RECOMMENDED), 10)
    qroom.sim.restore()
    qroom.life.reconnect(hid, "Секретарь")
    assert qroom.life.wait_for(lambda: "quality.after_reconnect" in
                               [r["event"] for r in qroom.life.history.rows(hid)], 10)
    rows = {r["event"]: r["detail"] for r in qroom.life.history.rows(hid)}
    before = rows["reconnect.started"]["quality_before"]["codec"]
    assert before["rx_loss_pct"] == pytest.approx(15.0, abs=0.3)
    after = rows["quality.after_reconnect"]
    assert after["device"] == "codec" and after["quality"]["rx_loss_pct"] == 0
    assert after["quality"]["call_id"] != before["call_id"]
    # the act quotes them beside the measures, in both languages
    from vksroom.controller.acts import render
    facts = qroom.life.history.facts(hid)
    ru, kk = render(facts, "ru"), render(facts, "kk")
    assert "Начато переподключение к дальней стороне: потери пакетов 15%, джиттер 3 мс, 30 кадр/с" in ru
    assert "Измерено качество связи после переподключения: потери пакетов 0%" in ru
    assert "жоғалған пакеттер 15%" in kk


def test_quality_limits_are_checked_in_the_config(tmp_path):
    base = {"room": {"court_id": "ast-01", "courtroom": "3", "data_dir": str(tmp_path)},
            "devices": {"codec": {"type": "codec", "model": "cisco", "url": "/dev/null"}}}
    with pytest.raises(ConfigInvalid, match="lifecycle.quality.rx_loss_pct: must be > 0"):
        parse({**base, "lifecycle": {"quality": {"rx_loss_pct": 0}}})
    with pytest.raises(ConfigInvalid, match="lifecycle.quality.loss: unknown key"):
        parse({**base, "lifecycle": {"quality": {"loss": 3}}})
    with pytest.raises(ConfigInvalid, match="far_audio: name the DSP channel"):
        parse({**base, "devices": {"codec": {**base["devices"]["codec"], "far_audio": "mics"}}})
    cfg = parse({**base, "lifecycle": {"quality": {"loss_s": 40}}})
    from vksroom.controller.lifecycle import LifecycleSettings
    from vksroom.controller.quality import limits
    got = limits(LifecycleSettings.from_config(cfg.lifecycle).quality)
    assert got["loss_s"] == 40 and got["rx_loss_pct"] == 2.0      # the default stays for the rest


def test_the_pre_hearing_test_call_keeps_the_worst_figures_it_read(cisco_sim, make_adapter):
    adapter = make_adapter("codec", cisco_sim.url, "cisco", username="admin", password="secret", far_end="1001",
                           hold_s=1.2)
    cisco_sim.degrade("loss", 6.0)
    res = adapter.test_call()
    assert res.ok
    q = res.params["quality"]
    assert q["readings"] >= 1 and q["rx_loss_pct"] == pytest.approx(6.0, abs=0.3)
    assert q["rx_size"] == "1920x1080" and q["rx_audio"] is True


def test_a_test_session_records_the_call_figures_as_evidence(qroom):
    qroom.life.change_schedule("create", {"id": "H2", "version": 1, "case_number": "7199-25-00-1/216",
                                          "start": "2099-01-01T10:00:00Z", "duration_min": 60,
                                          "far_side": {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1",
                                                       "number": "1001"}, "roles": ["judge"]}, "panel")
    qroom.sim.degrade("jitter", 90.0)
    qroom.life.sessions.run("H2", "Техник Ахметов")
    assert qroom.wait(lambda: qroom.of(ev.TEST_SESSION_RECORDED), 20)
    [rec] = qroom.of(ev.TEST_SESSION_RECORDED)
    measured = rec["session"]["evidence"]["call_quality"]
    assert measured["jitter_ms"] == 90 and measured["rx_loss_pct"] == 0


def test_call_quality_goes_to_the_centre_rate_limited(qroom):
    qroom.hearing()
    before, t0 = len(qroom.of(ev.CALL_QUALITY)), time.monotonic()
    assert qroom.wait_polls(8)               # 8 readings, 0.25 s apart
    sent = len(qroom.of(ev.CALL_QUALITY)) - before
    elapsed = time.monotonic() - t0
    assert 1 <= sent <= elapsed / LIMITS["publish_s"] + 1, (sent, elapsed)
    assert all(d["quality"]["call_id"] and d["device"] == "codec" for d in qroom.of(ev.CALL_QUALITY))
