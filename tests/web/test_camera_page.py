"""The camera page: state, arrow pad, zoom, role presets, store behind a confirmation."""
from types import SimpleNamespace

import pytest

from support.visca_sims import make_sim  # noqa: F401  (fixture)
from vksroom.controller.config import DeviceConfig
from vksroom.controller.devices import adapter_for


class Room:
    """The two controller methods the page uses, around real adapters."""

    def __init__(self, adapters):
        self.adapters = adapters
        self.cfg = SimpleNamespace(panel=None)     # no [panel] section: Russian, no users

    def adapter(self, device_id):
        return self.adapters[device_id]

    def device_ids(self):
        return list(self.adapters)

    def run_on(self, device_id, fn, timeout=10.0):
        return fn(self.adapters[device_id])


@pytest.fixture
def sim(make_sim):
    return make_sim("visca-ip")


@pytest.fixture
def room(sim, tmp_path):
    cfg = DeviceConfig(id="cam1", type="camera", url=sim.url, label="Judge camera",
                       options={"presets": {"judge": 1, "witness": 2, "interpreter": 3}})
    adapter = adapter_for(cfg, tmp_path)
    adapter.connect()
    yield Room({"cam1": adapter})
    adapter.close()


def test_page_shows_state_and_role_buttons(client, sim):
    c = client
    html = c.get("/camera/cam1").get_data(as_text=True)
    assert "Включена" in html and "Судья" in html and "Свидетель" in html
    assert ">interpreter</button>" in html and "role.interpreter" not in html   # the room's own role, as configured
    assert "Judge" in c.get("/camera/cam1?lang=en").get_data(as_text=True)
    assert "Сотталушы" not in html and "Судья" in c.get("/camera/cam1?lang=kk").get_data(as_text=True)
    assert c.get("/camera/nope").status_code == 404
    r = c.get("/cameras")                      # one camera: straight to its page
    assert r.status_code == 302 and r.headers["Location"].endswith("/camera/cam1")


def test_arrow_pad_zoom_and_recall_move_the_camera(client, sim):
    c = client
    r = c.post("/camera/cam1/move", data={"direction": "right", "speed": "10"})   # full speed: the biggest step
    assert sim.pan == round(0x08DB * 0.1)                                  # a tenth of the half sweep
    # back to the camera page (POST-redirect-GET): its live refresh goes on, a reload moves nothing
    assert r.status_code == 303 and r.headers["Location"].endswith("/camera/cam1?speed=10")
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "+0.100 /" in page and 'value="10" id="speed"' in page         # the camera's range; the slider kept
    c.get(r.headers["Location"])
    assert sim.pan == round(0x08DB * 0.1)
    assert c.get(r.headers["Location"] + "&live=1").get_json()["regions"]
    c.post("/camera/cam1/move", data={"direction": "up", "speed": "2"})
    assert sim.tilt == round(800 * 0.1 * 0.2)
    c.post("/camera/cam1/zoom", data={"direction": "tele"})
    assert sim.zoom == 0x800
    r = c.post("/camera/cam1/recall/judge")
    assert (sim.pan, sim.tilt) == (0, 0)      # preset 1 never stored: the camera's home
    assert r.status_code == 303 and r.headers["Location"].endswith("/camera/cam1?preset=judge")
    assert "Позиция «Судья» вызвана" in c.get(r.headers["Location"]).get_data(as_text=True)
    assert "вызвана" not in c.get(r.headers["Location"]).get_data(as_text=True)     # said once, not at each reload


def test_store_needs_a_confirmation(client, sim):
    c = client
    c.post("/camera/cam1/move", data={"direction": "left", "speed": "5"})
    page = c.post("/camera/cam1/store/witness").get_data(as_text=True)   # first press: asks
    assert "Заменить позицию «Свидетель»" in page and 2 not in sim.camera.presets
    r = c.post("/camera/cam1/store/witness", data={"confirm": "yes"})
    assert r.status_code == 303 and sim.camera.presets[2][:2] == (round(-0x08DB * 0.05), 0)
    assert "Позиция «Свидетель» сохранена" in c.get(r.headers["Location"]).get_data(as_text=True)
    r = c.post("/camera/cam1/store/interpreter", data={"confirm": "yes"}, follow_redirects=True)
    assert "Позиция «interpreter» сохранена" in r.get_data(as_text=True)        # not «role.interpreter»


def test_bad_input_and_camera_errors_are_said_and_change_nothing(client, sim):
    c = client
    r = c.post("/camera/cam1/move", data={"direction": "sideways", "speed": "5"}, follow_redirects=True)
    assert r.request.path == "/camera/cam1" and "Judge camera: неверное значение команды" in r.get_data(as_text=True)
    assert "sideways" not in r.get_data(as_text=True) and sim.pan == 0    # the exception's text is no sentence
    for speed in ("99", "0", "fast"):                                      # the slider goes 1..10
        r = c.post("/camera/cam1/move", data={"direction": "up", "speed": speed}, follow_redirects=True)
        assert 'id="camera-error"' in r.get_data(as_text=True) and sim.tilt == 0
    r = c.post("/camera/cam1/store/usher", data={"confirm": "yes"}, follow_redirects=True)
    assert 'id="camera-error"' in r.get_data(as_text=True)
    r = c.post("/camera/cam1/move", data={"direction": "up", "speed": "5"}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.get_json()["error"] == ""            # a program still gets JSON at once
    sim.camera.power = "standby"
    r = c.post("/camera/cam1/recall/judge", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"] == "Judge camera: команда не выполнена"
    assert "detail" not in r.get_json()          # the driver's error is for a logged-in technician only


def test_a_camera_starting_up_is_said_to_be_starting_not_failing(client, sim):
    c = client
    sim.camera.boot_until = sim.camera.clock() + 30          # initialising after power-on: error 41
    html = c.get("/camera/cam1").get_data(as_text=True)
    assert "Запускается" in html and 'id="camera-error"' not in html
    assert "Starting up" in c.get("/camera/cam1?lang=en").get_data(as_text=True)
