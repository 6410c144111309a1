"""The hearing day guide on the panel: the list's readiness column for every hearing, the
hearing page's timeline and status, and the warning when a new hearing already breaks a rule."""
import re

import pytest

from support.lifehelp import SIZO, at, clock, iso, life, life_room, mock_factory  # noqa: F401  (fixtures)

@pytest.fixture
def room(life):
    return life.controller


def status_of(page: str, hid: str) -> str:
    row = re.search(rf'<tr id="hearing-{hid}".*?</tr>', page, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", re.search(r'class="guide-status[^>]*>(.*?)</div>', row, re.S).group(1)).split())


def test_every_future_hearing_in_the_list_says_its_status_and_who_acts(life, client, clock):
    life.controller.command("hearing.create", {"id": "far", "version": 1, "case_number": "A-1",
                                               "start": iso(11, "10:00"), "far_side": "sizo-1"})
    life.controller.command("hearing.create", {"id": "near", "version": 1, "case_number": "A-2",
                                               "start": iso(9, "15:00"), "far_side": "sizo-1"})
    page = client.get("/hearings").get_data(as_text=True)
    assert status_of(page, "far") == "Тестовый сеанс с «СИЗО-1 г. Астаны» — до 10:00 завтра " \
                                     "Кто выполняет: Технический специалист"
    near = status_of(page, "near")
    assert near.startswith("Нарушение правил: до заседания в 15:00 меньше суток") and 'level-fault' in page
    life.life.record_test_session("near", "Ахметов", "passed")
    page = client.get("/hearings?lang=kk").get_data(as_text=True)
    assert status_of(page, "near").startswith("Сынақ сеансы өтті; өзін-өзі тексеру")
    assert "Кім орындайды: Сот отырысының хатшысы" in status_of(page, "near")


def test_creating_a_hearing_25_minutes_away_without_a_test_session_warns_clearly(life, client, clock):
    resp = client.post("/hearings", data={"case_number": "B-1", "date": "2025-03-09", "time": "08:25",
                                          "duration_min": "30", "far_side": "sizo-1"})
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    warning = re.search(r'<div id="created-warning".*?</div>\s*</div>', page, re.S)
    assert warning, "no warning for a hearing that breaks the test-session rule"
    text = " ".join(re.sub(r"<[^>]+>", " ", warning.group(0)).split())
    assert text.startswith("Заседание сохранено, но с нарушением правил: Нарушение правил: тестовый сеанс к "
                           "заседанию в 08:25 не проведён")
    # a hearing that breaks nothing is saved without one
    resp = client.post("/hearings", data={"case_number": "B-2", "date": "2025-03-12", "time": "10:00",
                                          "far_side": "sizo-1"})
    assert 'id="created-warning"' not in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_hearing_page_shows_the_timeline_and_follows_the_clock_to_connect_now(life, client, clock):
    life.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "C-1",
                                               "start": iso(10, "10:00"), "far_side": "sizo-1"})
    life.life.record_test_session("H1", "Ахметов", "passed")
    page = client.get("/hearings/H1").get_data(as_text=True)
    steps = re.findall(r'data-step="(\w+)" data-state="(\w+)"', page)
    assert steps == [("test_session", "done"), ("selftest", "later"), ("connect", "later"), ("start", "later"),
                     ("end", "later")]
    assert "09:30 завтра – 09:40 завтра" in page and "За 30–20 минут".lower() in page.lower()
    clock.advance_to(at(10, "09:31"))
    life.wait(lambda: life.life.schedule.readiness_for("H1") is not None, 10)
    page = client.get("/hearings/H1").get_data(as_text=True)
    assert 'data-action="connect"' in page
    assert "Подключайтесь сейчас: «СИЗО-1 г. Астаны», окно подключения до 09:40" in page
    assert ("connect", "now") in re.findall(r'data-step="(\w+)" data-state="(\w+)"', page)


def test_the_list_follows_the_clock_without_a_reload(life, client, clock):
    life.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "C-1",
                                               "start": iso(10, "10:00"), "far_side": "sizo-1"})
    live = client.get("/hearings?live=1").get_json()["regions"]["hearings-live"]
    assert 'data-code="guide.status.session_due"' in live
    clock.advance_to(at(9, "10:01"))                 # less than a day left: the breach shows by itself
    live = client.get("/hearings?live=1").get_json()["regions"]["hearings-live"]
    assert 'data-code="guide.status.session_breach"' in live and "level-fault" in live


def test_the_room_page_says_what_the_next_hearing_needs(life, client, clock):
    assert 'id="next-hearing-status"' not in client.get("/").get_data(as_text=True)
    life.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "C-1",
                                               "start": iso(9, "10:00"), "far_side": "sizo-1"})
    life.life.record_test_session("H1", "Ахметов", "passed")
    clock.advance_to(at(9, "09:31"))
    life.wait(lambda: life.life.schedule.readiness_for("H1") is not None, 10)
    page = client.get("/").get_data(as_text=True)
    status = re.search(r'id="next-hearing-status"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert " ".join(re.sub(r"<[^>]+>", " ", status).split()) == \
        "Подключайтесь сейчас: «СИЗО-1 г. Астаны», окно подключения до 09:40 Кто выполняет: Секретарь судебного заседания"
