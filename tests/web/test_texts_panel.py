"""What the technician reads on the panel about a failing check: the sentence in Kazakh and
in Russian naming the device by its label; the driver's own words only inside a collapsed
<details>, and only for a user who logged in."""
import html
import re

import pytest

from support.roomkit import FlagDevice
from vksroom.controller.config import parse
from vksroom.controller.model import RoomState

DRIVER_TEXT = "write /tmp/tmpa1b2c3/visca.sock: argument must be an int, or have a fileno() method"
JUDGE = {"kk": "Судья камерасы", "ru": "Камера судьи", "en": "Judge camera"}


class StandbyCamera(FlagDevice):
    """Answers its poll, but its self-test finds it in standby, with the driver's words in detail."""

    kind = "camera"

    def checks(self, ctx):
        return [self.result("power", False, value="standby", code="camera.standby", detail=DRIVER_TEXT)]


@pytest.fixture
def room(tmp_path):
    """A room whose judge camera's self-test finds it in standby."""
    from vksroom.controller.room import Controller

    cfg = parse({
        "room": {"court_id": "ast-01", "courtroom": "12", "data_dir": str(tmp_path)},
        "devices": {"cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "label": JUDGE},
                    "codec": {"type": "codec", "model": "cisco", "url": "/dev/null"}},
        "selftest": {"poll_interval_s": 0.1, "check_timeout_s": 5.0},
    })
    room = Controller(cfg, {"cam1": StandbyCamera(cfg.devices["cam1"]),
                            "codec": FlagDevice(cfg.devices["codec"])}).start()
    try:
        assert room.selftest()["state"] == "not_ready"
        assert room.wait_for(lambda r: r.state is RoomState.NOT_READY, 3)
        yield room
    finally:
        room.stop()


def _outside_details(page: str) -> str:
    return re.sub(r"<details.*?</details>", "", page, flags=re.S)


def _details(page: str) -> list[str]:
    return [html.unescape(d) for d in re.findall(r'<details class="detail"[^>]*>(.*?)</details>', page, re.S)]


def test_the_sentence_in_russian_and_kazakh_names_the_device_by_its_label(client):
    ru = client.get("/?lang=ru").get_data(as_text=True)
    assert "Камера судьи в дежурном режиме" in ru
    kk = client.get("/?lang=kk").get_data(as_text=True)
    assert "Судья камерасы күту режимінде" in kk and "Камера судьи" not in kk
    api = client.get("/api/readiness?lang=kk").get_json()
    assert api["labels"]["reasons"] == ["Судья камерасы күту режимінде"]
    assert api["labels"]["devices"]["cam1"] == {"label": "Судья камерасы", "health": "Ақаулық",
                                                 "reasons": ["Судья камерасы күту режимінде"], "details": []}
    assert api["devices"]["cam1"]["text"]["ru"] == "Камера судьи в дежурном режиме"
    for page in (ru, kk):
        assert ">cam1<" not in page                     # the id is no name for people


def test_without_a_login_the_driver_text_is_nowhere(client):
    for lang in ("ru", "kk"):
        page = client.get(f"/?lang={lang}").get_data(as_text=True)
        assert "argument must be" not in page and "/tmp/" not in page
    assert "argument must be" not in client.get("/api/readiness").get_data(as_text=True)


def test_a_logged_in_technician_opens_the_detail_and_only_there(app, client):
    from werkzeug.security import generate_password_hash

    app.config["USERS"] = {"akhmetov": generate_password_hash("correct horse")}
    assert client.post("/login", data={"user": "akhmetov", "password": "correct horse"}).status_code == 303
    page = client.get("/?lang=ru").get_data(as_text=True)
    assert "Камера судьи в дежурном режиме" in page
    assert any(DRIVER_TEXT in d for d in _details(page))         # collapsed: <details> without "open"
    assert re.search(r'<details class="detail">\s*<summary>Технические подробности</summary>', page)
    assert "argument must be" not in _outside_details(page) and "/tmp/" not in _outside_details(page)
    api = client.get("/api/readiness?lang=ru").get_json()
    assert api["labels"]["devices"]["cam1"]["details"] == [DRIVER_TEXT]
    assert "argument must be" not in " ".join(api["labels"]["reasons"] + api["reasons"])
