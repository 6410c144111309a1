"""The hearings pages through Flask's test client, over a room on the fast clock."""
import io
import re

import pytest
from pypdf import PdfReader

from support import textkit
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
    assert "This room has no camera preset for: jury" in text
    clash = client.post("/hearings?lang=kk", data={"case_number": "X-1", "date": "2025-03-10", "time": "10:30",
                                                   "far_side": "sizo-1"}).get_data(as_text=True)
    assert ("Сот отырысы осы залдағы 7199-25-00-1/300 ісі бойынша 10.03.2025 10:00–11:00 сот отырысымен уақыты "
            "қабаттасады") in clash and len(room.life.schedule.hearings()) == 1
    past = client.post("/hearings", data={"case_number": "X-2", "date": "2025-03-08", "time": "10:00",
                                          "far_side": "sizo-1", "duration_min": "many"})
    said = re.search(r'<div id="errors".*?</div>', past.get_data(as_text=True), re.S).group()
    assert past.status_code == 400 and "Время начала заседания (08.03.2025 10:00) уже прошло" in said
    assert "Продолжительность заседания должна быть от 5 до 720 минут" in said
    assert textkit.problems(re.sub(r"<[^>]+>", "", said)) == []        # no field name, no English
    nothing = client.post("/hearings", data={"case_number": "X-3", "far_side": "sizo-1"}).get_data(as_text=True)
    assert "Не указаны дата и время начала заседания" in nothing
    assert len(room.life.schedule.hearings()) == 1


def test_alarm_banner_marks_act_pdf_and_record_on_the_panel(setup):
    room, client, clock = setup
    room.controller.command("hearing.create", {"id": "H3", "version": 1, "case_number": "7199-25-00-1/230",
                                               "start": iso(9, "09:00"), "far_side": "sizo-1"})
    clock.advance(0)
    assert room.of("test_session.missing")          # less than 24 h away: at once
    page = client.get("/").get_data(as_text=True)    # the banner is on every page, the room page too
    assert "До заседания по делу 7199-25-00-1/230 осталось 1 ч, тестовый сеанс не проведён" in page
    client.post("/hearings/H3/connect")
    clock.advance(60)                                 # the far side does not answer
    [alarm] = [a for a in room.life.alarms() if a["key"] == "call:H3"]
    page = client.get("/hearings/H3?lang=kk").get_data(as_text=True)
    assert "Қарсы тарап («СИЗО-1 г. Астаны») 60 с ішінде жауап бермеді" in page and "Жою мүмкін емес" in page
    assert client.post(f"/alarms/{alarm['id']}/mark", data={"mark": "gone"}).status_code == 400
    assert room.pin("buzzer") is True
    assert client.post(f"/alarms/{alarm['id']}/mark", data={"mark": "cannot_be_fixed"}).status_code == 303
    assert room.pin("buzzer") is False and room.of("fault.marked")[-1]["alarm"]["state"] == "cannot_be_fixed"
    assert room.of("fault.marked")[-1]["reason"] == "Отметка о неисправности: «Устранить невозможно» (панель зала)"
    [act] = room.life.acts.for_hearing("H3")
    page = client.get(f"/acts/{act['id']}").get_data(as_text=True)
    assert "Номер дела: 7199-25-00-1/230" in page and "Іс нөмірі: 7199-25-00-1/230" in page
    # no panel users: who marked it is the room panel in words (the audit keeps the key)
    assert "«Устранить невозможно» — панель зала" in page and "«Жою мүмкін емес» — зал панелі" in page
    assert "panel" not in act["text_ru"] + act["text_kk"]
    assert "Технический специалист:" not in act["text_ru"]     # nobody is named: the signature line says who
    kk = client.get("/hearings/H3?lang=kk").get_data(as_text=True)
    assert '<td translate="no">зал панелі</td>' in kk                      # the record's "who"
    assert [a["user"] for a in room.controller.store.panel_audit() if a["path"].endswith("/mark")][0] == "panel"
    empty = client.post(f"/acts/{act['id']}", data={"ru": ""})
    assert empty.status_code == 400 and "Текст акта не может быть пустым" in empty.get_data(as_text=True)
    fonts, room.life.acts.font_dir = room.life.acts.font_dir, room.life.acts.font_dir / "gone"
    nofont = client.get(f"/acts/{act['id']}.pdf").get_data(as_text=True)     # said, not the font's path
    assert "Контроллер зала не может подготовить акт к печати" in nofont and "DejaVu" not in nofont
    room.life.acts.font_dir = fonts
    ok = client.post(f"/acts/{act['id']}", data={"ru": act["text_ru"] + "\nИсправлено секретарём."})
    assert ok.status_code == 200 and 'id="saved"' in ok.get_data(as_text=True)
    pdf = client.get(f"/acts/{act['id']}.pdf")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Исправлено секретарём." in text and "Кеңсе меңгерушісі" in text
    assert 'id="printed"' in client.get(f"/acts/{act['id']}").get_data(as_text=True)
    late = client.post(f"/acts/{act['id']}?lang=kk", data={"ru": "Другой текст"}).get_data(as_text=True)
    assert "Акт басып шығарылған: өзгерту үшін жаңа акт жасаңыз" in late
    rec = client.get("/hearings/H3/record.csv")
    assert rec.status_code == 200 and "connection.failed" in rec.get_data(as_text=True)
    header, row = rec.get_data(as_text=True).splitlines()[:2]     # for people: their words, the code last
    assert header.startswith("Время (по Гринвичу),Время (по времени суда),Событие,Кто")
    assert "Вызов дальней стороны" in row and ",панель зала," in row and row.endswith("connection.dialling")
    assert ",Оқиға," in client.get("/hearings/H3/record.csv?lang=kk").get_data(as_text=True).splitlines()[0]
    assert client.get("/hearings/H3/record.json").get_json()["hearing"]["case_number"] == "7199-25-00-1/230"
    assert client.get("/hearings/H3/record.xml").status_code == 404
    assert client.get("/hearings/nope/record.csv").status_code == 404


def test_break_banner_offers_reconnect_which_is_logged(setup):
    from vksroom.controller.model import CheckResult

    room, client, clock = setup
    room.devices["codec"].answering = {SIZO["number"]}
    room.controller.command("hearing.create", {"id": "H4", "version": 1, "case_number": "A-4",
                                               "start": iso(9, "08:30"), "far_side": "sizo-1"})
    clock.advance_to(at(9, "08:30"))
    assert room.controller.readiness().state.value == "in_hearing"
    client.post("/hearings/H4/connect", data={})
    clock.advance(5)
    for _ in range(7):
        room.life.report([CheckResult("codec", "audio_level", False, "", None, "call.dropped",
                                          {"far_side": "СИЗО-1"})])
        clock.advance(5)
    page = client.get("/hearings/H4?lang=en").get_data(as_text=True)
    assert "a technical break is recommended (The call with the far side (“СИЗО-1”) dropped)" in page
    assert 'id="reconnect-button"' in page
    assert client.post("/hearings/H4/reconnect", data={}).status_code == 303
    clock.advance(5)
    assert "reconnect.done" in [r["event"] for r in room.life.record("H4")]
    assert "reconnect-button" not in client.get("/hearings/H4").get_data(as_text=True)


def test_the_logged_in_user_signs_every_action_and_no_page_asks_for_a_name(setup):
    from werkzeug.security import generate_password_hash

    room, client, clock = setup
    client.application.config["USERS"] = {"zhanova": {"hash": generate_password_hash("secret-pass"),
                                                      "roles": ("secretary", "technician")}}
    assert client.post("/login", data={"user": "zhanova", "password": "secret-pass"}).status_code == 303
    room.controller.command("hearing.create", {"id": "H5", "version": 1, "case_number": "A-5",
                                               "start": iso(9, "09:00"), "far_side": "sizo-1"})
    clock.advance(0)
    page = client.get("/hearings/H5").get_data(as_text=True)
    assert 'name="who"' not in page and 'name="who"' not in client.get("/hearings").get_data(as_text=True)
    # a name typed into a form (an old page, a script) signs nothing: the session's user does
    assert client.post("/hearings/H5/test-session/record", data={"who": "Кто-то", "result": "passed"}).status_code == 303
    assert client.post("/hearings/H5/connect", data={"who": "Кто-то"}).status_code == 303
    clock.advance(60)
    [dialled] = [r for r in room.life.record("H5") if r["event"] == "connection.dialling"]
    assert dialled["who"] == "zhanova"
    assert room.life.ledger.sessions("H5")[-1].technician == "zhanova"
    sessions = client.get("/hearings/H5").get_data(as_text=True).split('id="sessions"')[1].split("</table>")[0]
    assert re.search(r'data-label="Дата">\d\d\.\d\d\.2025 \d\d:\d\d</td>', sessions) and "#" not in sessions
    record = client.get("/hearings/H5").get_data(as_text=True).split('id="record"')[1].split("</table>")[0]
    assert "Вызов дальней стороны" in record and ">connection.dialling<" not in record   # a sentence, not the code


def test_cancelling_a_hearing_and_ending_the_call_take_a_second_press(setup):
    room, client, clock = setup
    room.devices["codec"].answering = {SIZO["number"]}
    room.controller.command("hearing.create", {"id": "H6", "version": 1, "case_number": "A-6",
                                               "start": iso(9, "08:30"), "far_side": "sizo-1"})
    page = client.get("/hearings/H6").get_data(as_text=True)
    assert 'href="/hearings/H6/cancel"' in page and 'action="/hearings/H6/cancel"' not in page   # a link, not the act
    ask = client.get("/hearings/H6/cancel").get_data(as_text=True)
    assert "Отменить заседание по делу A-6?" in ask and 'name="confirm" value="yes"' in ask
    assert client.post("/hearings/H6/cancel").status_code == 200         # the first press only asks
    assert room.life.schedule.get("H6") is not None
    clock.advance_to(at(9, "08:30"))
    assert client.post("/hearings/H6/connect").status_code == 303
    clock.advance(5)
    assert room.life.connected("H6")
    assert "Завершить связь с дальней стороной по делу A-6?" in client.post("/hearings/H6/end").get_data(as_text=True)
    assert room.life.connected("H6")
    assert client.post("/hearings/H6/end", data={"confirm": "yes"}).status_code == 303
    assert not room.life.connected("H6")
    room.controller.command("hearing.create", {"id": "H7", "version": 1, "case_number": "A-7",
                                               "start": iso(12, "10:00"), "far_side": "sizo-1"})
    assert client.post("/hearings/H7/cancel", data={"confirm": "yes"}).status_code == 303   # the second press
    assert "H7" not in [h.id for h in room.life.schedule.hearings()]


def test_the_new_hearing_form_offers_the_participants_by_their_names(setup):
    room, client, clock = setup
    assert "wide" in room.life.schedule.roles and "judge" in room.life.schedule.roles   # the camera's presets
    page = client.get("/hearings?lang=kk").get_data(as_text=True)
    form = page.split('id="hearing-form"')[1]
    names = [n.strip() for n in re.findall(r'<label class="check">.*?>([^<>]+)</label>', form, re.S)]
    assert "Судья" in names and "Сотталушы" in names, names          # judge, defendant in Kazakh
    assert not [n for n in names if re.search(r"[A-Za-z]", n)], names
    assert 'value="wide"' not in form                 # the wide shot is no participant


def test_a_clash_from_the_centre_is_named_by_the_other_case_not_its_id(setup):
    room, client, clock = setup
    for hid, case, hhmm in (("ctr-2025-0077", "7199-25-00-1/301", "10:00"), ("ctr-2025-0078", "7199-25-00-1/302",
                                                                                "10:30")):
        room.controller.command("hearing.create", {"id": hid, "version": 1, "case_number": case,
                                                   "start": iso(10, hhmm), "far_side": "sizo-1"})
    page = client.get("/hearings").get_data(as_text=True)
    row = re.search(r'<tr id="hearing-ctr-2025-0078".*?</tr>', page, re.S).group()
    assert "Пересекается по времени с другим заседанием: 7199-25-00-1/301" in row
    assert "ctr-2025-0077" not in re.sub(r"<[^>]+>", " ", page)          # in links, never in the words
