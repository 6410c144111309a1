"""CodecAdapter: what the room's coordinator and self-test see, over a real pty."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from vksroom.controller.config import DeviceConfig
from vksroom.controller.devices import CheckContext, adapter_for
from vksroom.drivers.errors import DeviceError

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def cisco_adapter(cisco_sim, make_adapter):
    def make(**options):
        return make_adapter("codec", cisco_sim.url, "cisco", connect=False, username="admin", password="secret",
                            **options)
    return make


def _ctx(seconds=15):
    return CheckContext(deadline=time.monotonic() + seconds, data_dir=Path("/tmp"))


def _by_name(results):
    return {r.check: r for r in results}


def test_connect_poll_and_checks_with_a_test_call(cisco_sim, cisco_adapter):
    adapter = cisco_adapter(far_end="1001", connect_timeout_s=3, hold_s=0.5)
    adapter.connect()
    assert adapter.poll()["call"] == "idle"
    res = _by_name(adapter.checks(_ctx()))
    assert all(r.ok for r in res.values()), [r.reason for r in res.values()]
    call = res["test_call"]
    assert call.params["far_end"] == "1001" and 0 < call.params["time_to_connect_s"] < 2
    assert re.fullmatch(r"Кодек: тестовый вызов 1001 соединён за \d(,\d)? с", call.sentence("ru")), call.sentence("ru")


@pytest.mark.parametrize("number, code, words", [
    ("1002", "codec.test_call.busy", "Кодек: номер 1002 занят"),
    ("1003", "codec.test_call.no_answer", "Кодек: номер 1003 не отвечает"),
    ("1004", "codec.test_call.dropped", "Кодек: вызов 1004 оборвался"),
])
def test_failed_test_call_names_why(cisco_sim, cisco_adapter, number, code, words):
    adapter = cisco_adapter(far_end=number, connect_timeout_s=3, hold_s=1.0)
    adapter.connect()
    res = _by_name(adapter.checks(_ctx()))
    assert not res["test_call"].ok
    assert res["test_call"].code == code and res["test_call"].sentence("ru") == words
    assert number in res["test_call"].detail       # the driver's account, for the technician
    assert res["reachable"].ok and res["diagnostics"].ok


def test_error_diagnostics_fail_the_check_with_the_message(cisco_sim, cisco_adapter):
    cisco_sim.diagnostics = [{"level": "Error", "type": "NetworkQuality", "description": "Packet loss 12%"},
                             {"level": "Warning", "type": "Fan", "description": "Fan slow"}]
    adapter = cisco_adapter()
    adapter.connect()
    res = _by_name(adapter.checks(_ctx()))
    diag = res["diagnostics"]
    assert not diag.ok and diag.sentence("ru") == "Кодек: диагностика сообщает об ошибках (1)"
    assert "Packet loss 12%" in diag.detail and "Fan slow" not in diag.detail    # the codec's words: detail
    assert "Packet" not in str(diag.params) and "Packet" not in diag.to_dict()["reason"]


def test_unreachable_codec_is_one_failed_check(tmp_path, closing):
    cfg = DeviceConfig(id="codec1", type="codec", url=str(tmp_path / "no-such-port"), model="cisco")
    adapter = adapter_for(cfg)
    closing(adapter)
    with pytest.raises(DeviceError):
        adapter.connect()
    res = adapter.checks(_ctx(3))
    assert len(res) == 1 and not res[0].ok and res[0].sentence("ru") == "Кодек не отвечает"
    assert "no-such-port" in res[0].detail and "no-such-port" not in str(res[0].to_dict()["text"])


def test_unplug_seen_within_3s_and_usable_within_5s_of_return(cisco_sim, cisco_adapter):
    adapter = cisco_adapter()
    adapter.connect()
    adapter.poll()
    cisco_sim.unplug()
    t0 = time.monotonic()
    while True:   # the coordinator polls once a second; a poll must fail within 3 s
        try:
            adapter.poll()
        except DeviceError:
            break
        assert time.monotonic() - t0 < 3, "loss not seen within 3 s"
        adapter.codec.line.wait_ready(0)   # no sleep needed: the pty hang-up is seen at once
    cisco_sim.replug()
    t1 = time.monotonic()
    adapter.connect()      # what the coordinator does after a loss; no operator
    assert adapter.poll()["call"] == "idle"
    assert time.monotonic() - t1 < 5
    assert cisco_sim.sessions_started == 2   # logged in again on the new session


def test_call_interface_for_the_hearing_lifecycle(cisco_sim, cisco_adapter):
    adapter = cisco_adapter()
    adapter.connect()
    assert adapter.call_state() == "idle"
    call_id = adapter.dial("1001")
    assert adapter.codec.wait_call(call_id, lambda a, e: a is not None and a.state == "connected", 3)
    assert adapter.call_state() == "connected"
    adapter.hangup()
    assert adapter.codec.wait_call(call_id, lambda a, e: e is not None, 3)
    assert adapter.call_state() == "idle"
    cisco_sim.unplug()
    assert adapter.codec.line.wait_lost(3)
    with pytest.raises(DeviceError, match="not connected"):
        adapter.call_state()


def test_short_check_budget_shortens_the_wait_not_the_hold(cisco_sim, cisco_adapter):
    cisco_sim.answer_after_s = 0.3
    adapter = cisco_adapter(far_end="1001", connect_timeout_s=30, hold_s=1.0)
    adapter.connect()
    res = {r.check: r for r in adapter.checks(_ctx(7))}["test_call"]
    assert res.ok and res.params["held_s"] >= 0.99, res.reason
