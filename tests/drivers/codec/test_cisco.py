"""The Cisco driver against its simulator over a real pty."""
from __future__ import annotations

import threading
import time

import pytest

from vksroom.drivers.codec import open_codec
from vksroom.drivers.errors import ConfigError, DeviceRejected

pytestmark = pytest.mark.timeout(30)


def _open(sim, closing, **kw):
    codec = open_codec("cisco", kw.pop("url", sim.url), username="admin", password=kw.pop("password", "secret"), **kw)
    closing(codec)
    return codec


def test_login_then_status_idle_and_diagnostics_ok(cisco_sim, closing):
    codec = _open(cisco_sim, closing)
    status = codec.status()
    assert status["connected"] and status["logged_in"]
    assert status["call"] == "idle"
    assert status["diagnostics"] == "Ok"
    # the driver turned echo off and registered feedback in its session
    assert "echo off" in cisco_sim.received
    assert any(line.startswith("xFeedback register /Status/Call") for line in cisco_sim.received)


def test_serial_url_with_baud_works(cisco_sim, closing):
    codec = _open(cisco_sim, closing, url=f"serial://{cisco_sim.url}?baud=115200")
    assert codec.status()["connected"]


def test_wrong_password_is_refused_with_the_reason(cisco_sim):
    with pytest.raises(DeviceRejected, match="refused the login"):
        open_codec("cisco", cisco_sim.url, username="admin", password="wrong", open_timeout=3)


def test_unknown_model_is_a_config_error(cisco_sim):
    with pytest.raises(ConfigError, match="unknown codec model"):
        open_codec("sony", cisco_sim.url)


@pytest.mark.parametrize("number, ok, code, words", [
    ("1001", True, "connected", "connected in"),
    ("1002", False, "busy", "is busy"),
    ("1003", False, "no_answer", "no answer from 1003"),
    ("1004", False, "dropped", "dropped after"),
    ("1005", False, "rejected", "rejected"),
])
def test_test_call_outcomes_name_the_far_end_and_reason(cisco_sim, closing, number, ok, code, words):
    codec = _open(cisco_sim, closing)
    res = codec.test_call(number, connect_timeout=3, hold_s=1.0)
    assert (res.ok, res.code) == (ok, code), res.reason
    assert number in res.reason and words in res.reason
    if ok:
        assert 0.1 < res.time_to_connect_s < 1.5
        assert cisco_sim.wait_for(lambda: not cisco_sim.calls, 2)  # really hung up on the codec
    assert codec.status()["call"] == "idle"


def test_far_end_that_never_answers_within_our_timeout_is_hung_up(cisco_sim, closing):
    cisco_sim.ring_timeout_s = 30
    codec = _open(cisco_sim, closing)
    res = codec.test_call("1003", connect_timeout=0.5, hold_s=0.5)
    assert not res.ok and res.code == "no_answer" and "within 0.5 s" in res.reason
    assert cisco_sim.wait_for(lambda: not cisco_sim.calls, 2)
    assert cisco_sim.history[-1]["cause"] == "local"


def test_dial_and_feedback_track_call_state(cisco_sim, closing):
    codec = _open(cisco_sim, closing)
    events = []
    codec.on_event(events.append)
    call_id = codec.dial("1001")
    assert codec.wait_call(call_id, lambda a, e: a is not None and a.state == "connected", 3)
    assert codec.status()["call"] == "connected"
    codec.hangup(call_id)
    assert codec.wait_call(call_id, lambda a, e: e is not None, 3)
    assert [e["state"] for e in events if e["kind"] == "call"][-1] == "idle"
    assert "connected" in [e["state"] for e in events if e["kind"] == "call"]


def test_hangup_without_a_call_is_refused_with_the_codec_reason(cisco_sim, closing):
    codec = _open(cisco_sim, closing)
    with pytest.raises(DeviceRejected, match="No active call"):
        codec.hangup()


def test_diagnostics_error_arrives_by_feedback(cisco_sim, closing):
    codec = _open(cisco_sim, closing)
    critical = threading.Event()
    codec.on_event(lambda e: critical.set() if e.get("level") == "Critical" else None)
    cisco_sim.set_diagnostics([{"level": "Critical", "type": "CameraDetected", "description": "No camera"}])
    assert critical.wait(3)
    assert codec.status()["diagnostics"] == "Critical"
    assert codec.diagnostics[0]["description"] == "No camera"
    cisco_sim.set_diagnostics([])       # cleared: the message goes as a ghost
    assert codec.refresh_diagnostics() == [] and codec.diagnostics_level == "Ok"


def test_mic_mute_and_selfview(cisco_sim, closing):
    codec = _open(cisco_sim, closing)
    codec.set_mic_mute(True)
    assert cisco_sim.mic_muted is True and codec.status()["mic_muted"] is True
    codec.set_mic_mute(False)
    assert cisco_sim.mic_muted is False
    codec.set_selfview(True)
    assert cisco_sim.selfview is True


def test_bad_number_changes_nothing(cisco_sim, closing):
    codec = _open(cisco_sim, closing)
    sent = len(cisco_sim.received)
    with pytest.raises(DeviceRejected, match="not a number"):
        codec.dial('12"\nxCommand SystemUnit Boot')
    assert len(cisco_sim.received) == sent


def test_system_unit_facts_and_state_feedback(cisco_sim, closing):
    codec = _open(cisco_sim, closing)
    status = codec.status()
    assert status["product"] == "Cisco Webex Room Kit" and status["software"] == "ce9.15.3"
    assert status["unit_state"] == "Initialized"
    changed = threading.Event()
    codec.on_event(lambda e: changed.set() if e == {"kind": "unit", "state": "Sleeping"} else None)
    cisco_sim.set_unit_state("Sleeping")
    assert changed.wait(3)
    assert codec.status()["unit_state"] == "Sleeping"
