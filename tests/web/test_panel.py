"""The panel over a room of stand-in devices, through Flask's test client."""
import threading

from vksroom.controller.model import RoomState


def test_room_page_shows_state_and_devices_in_russian_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert 'data-state="ready"' in page and "Готов" in page
    assert "Judge camera" in page and 'data-device="codec"' in page
    assert "Запустить самопроверку" in page


def test_language_switch_to_kazakh_sticks(client):
    resp = client.get("/lang/kk")
    assert resp.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert "Дайын" in page and "Өзін-өзі тексеруді бастау" in page
    unknown = client.get("/lang/xx")            # refused on the panel's page, in the language still chosen
    assert unknown.status_code == 400 and unknown.mimetype == "text/html"
    said = unknown.get_data(as_text=True)
    assert "Мұндай тіл жоқ" in said and "unknown language" not in said
    assert "Дайын" in client.get("/").get_data(as_text=True)       # the choice stands


def test_a_lost_device_shows_with_its_reason(client, room, devices):
    controller = room
    devices["codec"].up.clear()
    assert controller.wait_for(lambda r: r.state is RoomState.NOT_READY, 3)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert 'data-state="not_ready"' in page
    assert 'id="dev-codec" class="health-fault"' in page
    assert "Codec does not answer" in page and "gave no answer" not in page   # a sentence, not the driver's error
    api = client.get("/api/readiness?lang=kk").get_json()
    assert api["state"] == "not_ready" and api["labels"]["state"] == "Дайын емес"
    assert api["labels"]["devices"]["codec"]["reasons"] == ["Кодек жауап бермейді"]
    assert api["labels"]["reasons"] == ["Кодек жауап бермейді"] and api["reasons"] == ["Кодек не отвечает"]


def test_run_selftest_button_starts_a_run_once(client, room, devices):
    controller = room
    devices["cam1"].hang = hold = threading.Event()   # the camera's checks take until released
    resp = client.post("/selftest", headers={"Accept": "application/json"})
    assert resp.status_code == 202
    run_id = resp.get_json()["run_id"]
    again = client.post("/selftest", headers={"Accept": "application/json"})
    assert again.get_json()["run_id"] == run_id  # a second press joins the running test
    hold.set()
    controller.wait_for(lambda r: r.activity == "", 5)
    assert controller.store.runs(1)[0]["id"] == run_id
    resp = client.post("/selftest")
    assert resp.status_code == 303  # a plain form post comes back to the page


def test_selftest_refused_while_suspended_says_why(client, room):
    controller = room
    controller.command("vks.suspend", {"reason": "riot at the detention centre"})
    resp = client.post("/selftest", headers={"Accept": "application/json"})
    assert resp.status_code == 409
    assert "riot at the detention centre" in resp.get_json()["error"]
    assert controller.store.runs(1) == []
