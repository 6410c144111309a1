"""The hearings pages through Flask's test client, over a room on the fast clock."""
import io

import pytest
from pypdf import PdfReader

from support.lifehelp import SIZO, at, clock, iso, life, life_room, mock_factory  # noqa: F401  (fixtures)

@pytest.fixture
def room(life):
    """The panel serves the life room's controller."""
    return life.controller


@pytest.fixture
def setup(life, client, clock):
    return life, client, clock


def test_schedule_form_creates_in_court_time_and_shows_refusals_in_the_chosen_language(setup):
    room, client, clock = setup
    page = client.get("/hearings").get_data(as_text=True)
    assert "Судебные заседания" in page and "СИЗО-1 г. Астаны (sizo1@vks.kz)" in page
    resp = client.post("/hearings", data={"case_number": "7199-25-00-1/300", "date": "2025-03-10", "time": "10:00",
                                          "duration_min": "60", "far_side": "sizo-1", "roles": ["judge"]})
    assert resp.status_code == 303
    [h] = room.life.schedule.hearings()
    assert h.start == at(10, "10:00") and h.source == "panel"
    assert room.of("hearing.created")[0]["hearing"]["start"] == "2025-03-10T05:00:00Z"
    page = client.get("/hearings?lang=kk").get_data(as_text=True)
    assert "10.03.2025 10:00" in page and "Тестілеу сеансы өткізілмеген" in page
    bad = client.post("/hearings?lang=en", data={"case_number": "X-1", "date": "2025-03-10", "time": "10:30",
                                                  "far_side": "sizo-1", "roles": ["jury"]})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Refused" in text
    assert "no camera preset for &#39;jury&#39;" in text
    clash = client.post("/hearings", data={"case_number": "X-1", "date": "2025-03-10", "time": "10:30",
                                           "far_side": "sizo-1"}).get_data(as_text=True)
    assert "overlaps hearing" in clash and len(room.life.schedule.hearings()) == 1
    past = client.post("/hearings", data={"case_number": "X-2", "date": "2025-03-08", "time": "10:00",
                                          "far_side": "sizo-1"})
    assert past.status_code == 400 and "is in the past" in past.get_data(as_text=True)
    assert len(room.life.schedule.hearings()) == 1


def test_alarm_banner_marks_act_pdf_and_record_on_the_panel(setup):
    room, client, clock = setup
    room.controller.command("hearing.create", {"id": "H3", "version": 1, "case_number": "7199-25-00-1/230",
                                               "start": iso(9, "09:00"), "far_side": "sizo-1"})
    clock.advance(0)
    assert room.of("test_session.missing")          # less than 24 h away: at once
    page = client.get("/").get_data(as_text=True)    # the banner is on every page, the room page too
    assert "До заседания по делу 7199-25-00-1/230 осталось 1 ч, тестовый сеанс не проведён" in page
    resp = client.post("/hearings/H3/test-session", data={"who": ""}, headers={"Accept": "application/json"})
    assert resp.status_code == 409 and resp.get_json()["error"] == "Укажите, кто проводит тестовый сеанс " \
        "(технический специалист)"                   # a sentence in the panel's language
    client.post("/hearings/H3/connect", data={"who": "Жанова"})
    clock.advance(60)                                 # the far side does not answer
    [alarm] = [a for a in room.life.alarms() if a["key"] == "call:H3"]
    page = client.get("/hearings/H3?lang=kk").get_data(as_text=True)
    assert "Қарсы тарап («СИЗО-1 г. Астаны») 60 с ішінде жауап бермеді" in page and "Жою мүмкін емес" in page
    assert client.post(f"/alarms/{alarm['id']}/mark", data={"mark": "gone", "who": "Ахметов"}).status_code == 400
    assert room.pin("buzzer") is True
    assert client.post(f"/alarms/{alarm['id']}/mark", data={"mark": "cannot_be_fixed", "who": "Ахметов"}).status_code == 303
    assert room.pin("buzzer") is False and room.of("fault.marked")[-1]["alarm"]["state"] == "cannot_be_fixed"
    [act] = room.life.acts.for_hearing("H3")
    page = client.get(f"/acts/{act['id']}").get_data(as_text=True)
    assert "Номер дела: 7199-25-00-1/230" in page and "Іс нөмірі: 7199-25-00-1/230" in page
    assert client.post(f"/acts/{act['id']}", data={"ru": "", "who": "Жанова"}).status_code == 400
    ok = client.post(f"/acts/{act['id']}", data={"ru": act["text_ru"] + "\nИсправлено секретарём.", "who": "Жанова"})
    assert ok.status_code == 200 and 'id="saved"' in ok.get_data(as_text=True)
    pdf = client.get(f"/acts/{act['id']}.pdf")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Исправлено секретарём." in text and "Кеңсе меңгерушісі" in text
    assert 'id="printed"' in client.get(f"/acts/{act['id']}").get_data(as_text=True)
    rec = client.get("/hearings/H3/record.csv")
    assert rec.status_code == 200 and "connection.failed" in rec.get_data(as_text=True)
    assert client.get("/hearings/H3/record.json").get_json()["hearing"]["case_number"] == "7199-25-00-1/230"
    assert client.get("/hearings/H3/record.xml").status_code == 400
    assert client.get("/hearings/nope/record.csv").status_code == 404


def test_break_banner_offers_reconnect_which_is_logged(setup):
    from vksroom.controller.model import CheckResult

    room, client, clock = setup
    room.devices["codec"].answering = {SIZO["number"]}
    room.controller.command("hearing.create", {"id": "H4", "version": 1, "case_number": "A-4",
                                               "start": iso(9, "08:30"), "far_side": "sizo-1"})
    clock.advance_to(at(9, "08:30"))
    assert room.controller.readiness().state.value == "in_hearing"
    client.post("/hearings/H4/connect", data={"who": "Жанова"})
    clock.advance(5)
    for _ in range(7):
        room.life.report([CheckResult("codec", "audio_level", False, "", None, "call.dropped",
                                          {"far_side": "СИЗО-1"})])
        clock.advance(5)
    page = client.get("/hearings/H4?lang=en").get_data(as_text=True)
    assert "a technical break is recommended (The call with the far side (“СИЗО-1”) dropped)" in page
    assert 'id="reconnect-button"' in page
    assert client.post("/hearings/H4/reconnect", data={"who": "Жанова"}).status_code == 303
    clock.advance(5)
    assert "reconnect.done" in [r["event"] for r in room.life.record("H4")]
    assert "reconnect-button" not in client.get("/hearings/H4").get_data(as_text=True)
