"""Live pages: a page's changing parts come from the same page with ?live=1 (JSON of its live
regions), so the script can put them in place without a reload; the suspension banner is on
every page."""
import re
import threading

import pytest

from support.lifehelp import SIZO, at, clock, iso, life, life_room, mock_factory  # noqa: F401  (fixtures)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def live(client, url):
    resp = client.get(url + ("&" if "?" in url else "?") + "live=1")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()["regions"]


@pytest.fixture
def room(life):
    """The panel serves the life room's controller."""
    return life.controller


def test_the_room_page_follows_a_self_test_device_by_device(life, client):
    hold = life.devices["cam2"].hang = threading.Event()
    assert 'id="selftest-progress" data-live' in client.get("/").get_data(as_text=True)
    life.controller.run_selftest("panel")
    assert life.controller.wait_for(lambda r: sum(d["done"] for d in (life.controller.selftest_progress() or {
        "devices": {}})["devices"].values()) == 2, 5)
    region = live(client, "/")["selftest-progress"]
    assert "Самопроверка: проверено 2 из 3" in text(region) and "<progress" in region
    assert re.findall(r'data-device="(\w+)" data-progress="(\w+)"', region) == [
        ("cam1", "ok"), ("codec", "ok"), ("cam2", "checking")]
    hold.set()
    assert life.controller.wait_for(lambda r: life.controller.selftest_progress() is None, 5)
    assert live(client, "/")["selftest-progress"].strip() == ""


def test_a_test_session_started_from_the_page_shows_its_steps_then_its_result(life, client, clock):
    life.devices["codec"].answering = {SIZO["number"]}
    life.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "A-1",
                                               "start": iso(10, "10:00"), "far_side": "sizo-1"})
    resp = client.post("/hearings/H1/test-session", data={"who": "Ахметов"})
    assert resp.status_code == 303                  # at once: the page follows the session
    life.wait(lambda: (life.life.running_session() or {}).get("step") == "calling")
    regions = live(client, "/hearings/H1")
    assert "Тестовый сеанс: вызов «СИЗО-1 г. Астаны»" in text(regions["hearing-live"])
    assert 'id="session-bar"' in regions["hearing-live"]
    clock.advance(5)                                 # the dialler reads the call state: answered
    life.wait(lambda: (life.life.running_session() or {}).get("step") == "holding")
    assert "связь с «СИЗО-1 г. Астаны» удерживается 10 с" in text(live(client, "/hearings/H1")["hearing-live"])
    clock.advance(10)
    life.wait(lambda: life.life.running_session() is None)
    regions = live(client, "/hearings/H1?lang=kk")
    assert 'data-result="passed"' in regions["sessions-live"]
    assert "Сынақ сеансы өтті" in text(regions["hearing-live"])


def test_a_failed_test_session_says_why_in_words(life, client, clock):
    life.devices["codec"].answering = set()          # the far side does not answer
    life.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "A-1",
                                               "start": iso(10, "10:00"), "far_side": "sizo-1"})
    client.post("/hearings/H1/test-session")
    life.wait(lambda: (life.life.running_session() or {}).get("step") == "calling")
    clock.advance(120)
    life.wait(lambda: life.life.running_session() is None)
    row = text(live(client, "/hearings/H1")["sessions-live"])
    assert "Дальняя сторона не ответила на тестовый вызов" in row and "far side" not in row


def test_the_call_state_follows_dialling_and_the_answer(life, client, clock):
    life.devices["codec"].answering = {SIZO["number"]}
    life.controller.command("hearing.create", {"id": "H2", "version": 1, "case_number": "A-2",
                                               "start": iso(9, "08:40"), "far_side": "sizo-1"})
    assert 'data-call="none"' in live(client, "/hearings/H2")["hearing-live"]
    client.post("/hearings/H2/connect", data={"who": "Жанова"})
    regions = live(client, "/hearings/H2")
    assert 'data-call="dialling"' in regions["hearing-live"] and 'id="call-bar"' in regions["hearing-live"]
    assert "Вызов «СИЗО-1 г. Астаны»: ожидание ответа (0 с из 60)" in text(regions["hearing-live"])
    clock.advance(5)
    life.wait(lambda: life.life.connected("H2"))
    regions = live(client, "/hearings/H2")
    assert "Связь с «СИЗО-1 г. Астаны» установлена" in text(regions["hearing-live"])
    assert 'id="reconnect"' in regions["call-live"]


def test_suspension_is_on_every_page_with_its_reason_and_who_set_it(life, client, clock):
    life.controller.command("vks.suspend", {"reason": "массовые беспорядки в учреждении"})
    life.wait_state("suspended")
    for url in ("/", "/hearings", "/video", "/audio/"):
        page = client.get(url).get_data(as_text=True)
        banner = re.search(r'<div id="suspension"[^>]*>(.*?)</div>', page, re.S)
        assert banner, url
        assert text(banner.group(1)) == "ВКС приостановлена (08:00): массовые беспорядки в учреждении. " \
                                        "Приостановил: Центральный планировщик"
    assert 'id="suspension"' in live(client, "/hearings")["banners"]
    life.controller.command("vks.resume", {})
    life.wait(lambda: not life.life.suspended)
    assert 'id="suspension"' not in client.get("/").get_data(as_text=True)
    # the centre may say who suspended it: a name as sent, a staff role by its name in the page's language
    for by, said in (("Председатель суда Н. Омарова", "Приостановил: Председатель суда Н. Омарова"),
                     ("administrator", "Приостановил: Администратор")):
        life.controller.command("vks.suspend", {"reason": "проверка связи", "by": by})
        life.wait_state("suspended")
        assert said in text(client.get("/hearings").get_data(as_text=True))
        life.controller.command("vks.resume", {})
        life.wait(lambda: not life.life.suspended)
    life.controller.command("vks.suspend", {"reason": "проверка связи"})            # by no one named: the centre
    life.wait_state("suspended")
    assert "тоқтатыла тұрды (08:00): проверка связи. Тоқтата тұрған: Орталық жоспарлаушы" in \
        text(client.get("/hearings?lang=kk").get_data(as_text=True))      # suspended, not stopped


def test_an_alarm_raised_after_the_page_loaded_comes_with_the_banners(life, client, clock):
    assert 'data-alarm=' not in live(client, "/hearings")["banners"]
    life.controller.command("hearing.create", {"id": "H3", "version": 1, "case_number": "7199-25-00-1/230",
                                               "start": iso(9, "09:00"), "far_side": "sizo-1"})
    clock.advance(0)                                  # less than 24 h away: the warning is raised
    banners = live(client, "/hearings")["banners"]
    assert "До заседания по делу 7199-25-00-1/230 осталось 1 ч, тестовый сеанс не проведён" in text(banners)


def test_the_hearing_page_shows_the_rooms_self_test_as_it_runs(life, client):
    hold = life.devices["cam2"].hang = threading.Event()
    life.controller.command("hearing.create", {"id": "H5", "version": 1, "case_number": "A-5",
                                               "start": iso(10, "10:00"), "far_side": "sizo-1"})
    life.controller.run_selftest("schedule")
    assert life.controller.wait_for(lambda r: r.activity == "selftest", 5)
    region = live(client, "/hearings/H5")["hearing-live"]
    assert 'id="selftest-bar"' in region and "Самопроверка: проверено" in text(region)
    # a day ahead it is not yet this hearing's self-test: that step is still ahead
    assert ("selftest", "later") in re.findall(r'data-step="(\w+)" data-state="(\w+)"', region)
    hold.set()
    assert life.controller.wait_for(lambda r: r.activity == "", 5)
    assert 'id="selftest-bar"' not in live(client, "/hearings/H5")["hearing-live"]
