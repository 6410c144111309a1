"""The audio and codec pages of the panel around real adapters and simulators."""
from __future__ import annotations

import re
import threading
import time

import pytest
from vksroom.web import audio as audio_web

pytestmark = pytest.mark.timeout(30)


class Room:
    """What the blueprints use of the controller: cfg.devices_of, adapter, run_on."""

    def __init__(self, adapters):
        self.adapters = {a.id: a for a in adapters}
        self.locks = {a.id: threading.Lock() for a in adapters}
        self.cfg = self
        self.panel = None             # no [panel] section: Russian, no users

    def devices_of(self, kind):
        return [a.cfg for a in self.adapters.values() if a.cfg.type == kind]

    def adapter(self, device_id):
        return self.adapters[device_id]

    def run_on(self, device_id, fn, timeout=10.0):
        if not self.locks[device_id].acquire(timeout=timeout):
            raise TimeoutError(f"{device_id} busy")
        try:
            return fn(self.adapters[device_id])
        finally:
            self.locks[device_id].release()


@pytest.fixture
def room(request):
    """The panel's room around one device: ``request.param`` names the fixture giving (sim, adapter)."""
    _, adapter = request.getfixturevalue(request.param)
    return Room([adapter])


def _wait(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        threading.Event().wait(0.05)
    return predicate()


@pytest.fixture
def tesira(closing, make_adapter):
    from vksroom.hil.audio_sim import TesiraSimulator

    sim = closing(TesiraSimulator(channels=2, signals={1: "speech", 2: "silence"}).start())
    return sim, make_adapter("dsp", sim.url, "tesira", channels={
        "judge": {"index": 1, "label": {"kk": "Судья", "ru": "Судья", "en": "Judge"}}, "clerk": {"index": 2}})


@pytest.mark.parametrize("room", ["tesira"], indirect=True)
def test_audio_page_and_live_levels(client, tesira):
    sim, adapter = tesira
    page = client.get("/audio/")
    assert page.status_code == 200 and "Судья" in page.get_data(as_text=True)
    assert audio_web.REFRESH_MS <= 200      # the page asks at least 5 times a second
    seen = set()

    def changing():
        seen.add(client.get("/audio/levels.json").get_json()["dsp"]["channels"]["judge"]["db"])
        return len(seen - {None}) >= 5
    assert _wait(changing, 1.5), seen      # the meter under it moves that fast too
    data = client.get("/audio/levels.json").get_json()["dsp"]
    assert data["connected"] and data["channels"]["clerk"]["db"] < -60


@pytest.mark.parametrize("room", ["tesira"], indirect=True)
def test_mute_toggle_and_bad_input(client, tesira):
    sim, adapter = tesira
    assert client.post("/audio/dsp/judge/mute", data={"muted": "1"}).get_json() == {"ok": True, "muted": True}
    assert sim.mutes[1] is True
    assert client.get("/audio/levels.json").get_json()["dsp"]["channels"]["judge"]["muted"] is True
    assert client.post("/audio/dsp/judge/mute", data={"muted": "yes"}).status_code == 400
    assert client.post("/audio/dsp/nobody/mute", data={"muted": "1"}).status_code == 404
    assert client.post("/audio/other/judge/mute", data={"muted": "1"}).status_code == 404
    assert sim.mutes == {1: True, 2: False}


@pytest.fixture
def cisco(cisco_sim, make_adapter):
    return cisco_sim, make_adapter("codec", cisco_sim.url, "cisco", username="admin", password="secret",
                                   far_end="1001", connect_timeout_s=3, hold_s=1)


@pytest.mark.parametrize("room", ["cisco"], indirect=True)
def test_codec_page_test_call_button(client, cisco):
    sim, adapter = cisco
    page = client.get("/codec/").get_data(as_text=True)
    assert "Нет вызова" in page and 'value="1001"' in page
    assert client.post("/codec/codec/test_call").status_code == 202
    assert client.post("/codec/codec/test_call").status_code == 409      # one at a time
    assert _wait(lambda: client.get("/codec/status.json").get_json()["codec"]["call"] == "connected", 3)
    done = _wait(lambda: not client.get("/codec/status.json").get_json()["codec"]["test"].get("running"), 5)
    assert done
    test = client.get("/codec/status.json").get_json()["codec"]["test"]
    assert test["ok"] and test["params"]["far_end"] == "1001"
    assert re.fullmatch(r"Кодек: тестовый вызов 1001 соединён за \d(,\d)? с", test["reason"]), test["reason"]


@pytest.mark.parametrize("room", ["cisco"], indirect=True)
def test_hang_up_during_a_test_call_ends_it_at_once(client, cisco):
    sim, adapter = cisco
    client.post("/codec/codec/test_call", data={"number": "1001"})
    assert _wait(lambda: client.get("/codec/status.json").get_json()["codec"]["call"] == "connected", 3)
    assert client.post("/codec/codec/hangup").get_json() == {"ok": True}
    assert _wait(lambda: not client.get("/codec/status.json").get_json()["codec"]["test"].get("running"), 3)
    test = client.get("/codec/status.json").get_json()["codec"]["test"]
    assert not test["ok"] and test["reason"] == "Кодек: вызов 1001 оборвался"
    assert "detail" not in test                 # the driver's account: a logged-in technician's only
    resp = client.post("/codec/codec/hangup")
    assert resp.status_code == 503 and resp.get_json()["error"] == "Кодек: команда не выполнена"
