"""The Poly Group Series driver against its simulator over a real pty."""
from __future__ import annotations

import pytest

from vksroom.drivers.codec import open_codec
from vksroom.drivers.errors import DeviceRejected

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def poly(poly_sim, closing):
    codec = open_codec("poly", poly_sim.url, password="pw")
    closing(codec)
    return codec


def test_password_then_callstate_registered(poly_sim, poly):
    assert poly.status()["connected"] and poly.status()["call"] == "idle"
    assert "callstate register" in poly_sim.received


def test_wrong_password_is_refused(poly_sim):
    with pytest.raises(DeviceRejected, match="refused the login"):
        open_codec("poly", poly_sim.url, password="nope", open_timeout=3)


@pytest.mark.parametrize("number, ok, code, words", [
    ("2001", True, "connected", "connected in"),
    ("2002", False, "busy", "is busy"),
    ("2003", False, "no_answer", "no answer"),
    ("2004", False, "dropped", "dropped after"),
])
def test_test_call_outcomes(poly, number, ok, code, words):
    res = poly.test_call(number, connect_timeout=3, hold_s=1.0)
    assert (res.ok, res.code) == (ok, code), res.reason
    assert number in res.reason and words in res.reason
    assert poly.status()["call"] == "idle"


def test_mute_near(poly_sim, poly):
    poly.set_mic_mute(True)
    assert poly_sim.mic_muted and poly.refresh()["mic_muted"] is True
    poly.set_mic_mute(False)
    assert not poly_sim.mic_muted and poly.refresh()["mic_muted"] is False


def test_reconnect_resynchronises_calls(poly_sim, poly):
    call_id = poly.dial("2001")
    assert poly.wait_call(call_id, lambda a, e: a is not None and a.state == "connected", 3)
    poly_sim.unplug()
    assert poly.line.wait_lost(3)
    poly_sim.replug()
    assert poly.line.wait_ready(5)
    assert poly.status()["call"] == "connected"      # getcallstate on the new session found it
    poly.hangup()
    assert poly.wait_call(call_id, lambda a, e: e is not None, 3)
