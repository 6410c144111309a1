"""The hearing day guide: at each moment of the court day one status, its next action and who
does it, and a timeline of the rule deadlines. Pure functions on the clock, then the same
through a room on the manual clock."""
from support.lifehelp import COURT_TZ, at, clock, iso, life_room, mock_factory  # noqa: F401  (fixtures)
from vksroom.controller import guide as g
from vksroom.controller.schedule import FarSide, Hearing

SIZO = FarSide("sizo-1", "detention", "СИЗО-1 г. Астаны", "sizo1@vks.kz")
H = Hearing("H1", 1, "7199-25-00-1/230", at(10, "10:00"), 3600, SIZO)
READY = {"state": "ready", "reasons": [], "at": at(10, "09:15")}


def status(now, **facts):
    return g.guide(H, g.Facts(**facts), now, COURT_TZ)


def test_a_day_ahead_the_technician_is_told_the_test_session_deadline_in_plain_words():
    s = status(at(8, "15:00"))
    assert (s.code, s.actor, s.action, s.level) == ("guide.status.session_due", "technician", "test_session", "info")
    assert s.say("ru") == "Тестовый сеанс с «СИЗО-1 г. Астаны» — до 10:00 завтра"
    assert s.say("kk") == "«СИЗО-1 г. Астаны» тарапымен сынақ сеансы — мерзімі: ертең 10:00"
    assert not s.breach


def test_inside_24_hours_without_a_test_session_is_a_rule_breach():
    s = status(at(9, "10:01"))
    assert s.code == "guide.status.session_breach" and s.breach and s.actor == "technician"
    assert "Нарушение правил" in s.say("ru") and "10:00 завтра" in s.say("ru")
    assert "вчера" not in s.say("ru")
    [session] = [st for st in s.steps if st.key == "test_session"]
    assert session.state == "missed"


def test_after_the_test_session_the_room_waits_for_its_self_test_then_is_ready():
    s = status(at(9, "18:00"), session_passed=True, selftest_at=at(10, "09:15"))
    assert s.code == "guide.status.waiting_selftest" and s.actor == "secretary"
    assert s.say("en") == "Test session held; the self-test runs at 09:15 tomorrow, connect from 09:30 tomorrow " \
        "to 09:40 tomorrow"
    s = status(at(10, "09:20"), session_passed=True, readiness=READY)
    assert s.code == "guide.status.ready" and s.level == "ok"
    assert s.say("ru") == "Готов к заседанию в 10:00: подключение с 09:30 до 09:40"
    assert [st.state for st in s.steps] == ["done", "done", "later", "later", "later"]


def test_a_self_test_under_way_is_the_step_of_now_not_overdue():
    late = status(at(10, "09:35"), session_passed=True, selftest_running=True)
    assert [st.state for st in late.steps if st.key == "selftest"] == ["now"]
    assert [st.state for st in status(at(10, "09:35"), session_passed=True).steps if st.key == "selftest"] == ["missed"]


def test_a_failed_self_test_sends_the_technician_with_the_reasons():
    failed = {"state": "not_ready", "reasons": ["Камера судьи не отвечает"], "at": at(10, "09:15")}
    s = status(at(10, "09:20"), session_passed=True, readiness=failed)
    assert (s.code, s.actor, s.action) == ("guide.status.not_ready", "technician", "fix")
    assert "Камера судьи не отвечает" in s.say("ru")
    assert [st.state for st in s.steps][:2] == ["done", "failed"]


def test_the_connection_window_says_connect_now_then_late_then_started_without_connection():
    ok = {"session_passed": True, "readiness": READY}
    s = status(at(10, "09:30"), **ok)
    assert (s.code, s.actor, s.action, s.level) == ("guide.status.connect_now", "secretary", "connect", "ok")
    assert s.say("ru") == "Подключайтесь сейчас: «СИЗО-1 г. Астаны», окно подключения до 09:40"
    assert [st.state for st in s.steps if st.key == "connect"] == ["now"]
    s = status(at(10, "09:41"), **ok)
    assert s.code == "guide.status.connect_late" and s.breach
    s = status(at(10, "10:01"), **ok)
    assert s.code == "guide.status.started_unconnected" and s.breach


def test_a_hearing_25_minutes_away_without_a_test_session_is_a_breach_not_a_plain_line():
    s = status(at(10, "09:35"))
    assert s.code == "guide.status.connect_no_session" and s.breach and s.action == "connect"
    assert s.say("ru").startswith("Нарушение правил: тестовый сеанс к заседанию в 10:00 не проведён")


def test_dialling_connected_ended_suspended_and_act():
    ok = {"session_passed": True, "readiness": READY}
    assert status(at(10, "09:31"), dialling=True, **ok).code == "guide.status.connecting"
    s = status(at(10, "09:35"), connected=True, under_way=True, **ok)
    assert (s.code, s.action) == ("guide.status.in_hearing", "end")
    assert s.say("ru") == "Идёт заседание, связь с «СИЗО-1 г. Астаны» установлена; окончание в 11:00"
    assert [st.state for st in s.steps if st.key in ("connect", "end")] == ["done", "now"]
    assert status(at(10, "11:05"), ended=True, **ok).code == "guide.status.ended"
    s = status(at(10, "09:35"), suspended="массовые беспорядки", **ok)
    assert s.code == "guide.status.suspended" and "массовые беспорядки" in s.say("ru") and s.actor is None
    assert status(at(10, "10:10"), act=True, **ok).code == "guide.status.act"


def test_through_the_room_the_status_follows_the_clock_and_the_test_session(life_room, clock):
    room = life_room()
    room.wait_state("ready")
    room.controller.command("farside.set", SIZO.__dict__)
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": H.case_number,
                                               "start": iso(10, "10:00"), "far_side": "sizo-1"})
    life = room.life
    h = life.schedule.get("H1")
    assert g.for_hearing(life, h).code == "guide.status.session_due"
    clock.advance(2 * 3600 + 60)                     # 10:01 the day before: less than 24 h left
    assert g.for_hearing(life, h).code == "guide.status.session_breach"
    life.record_test_session("H1", "Ахметов", "passed")
    s = g.for_hearing(life, h)
    assert s.code == "guide.status.waiting_selftest"
    assert s.params["selftest"]["ru"] == f"{life.schedule.local(life.selftest_at(h)):%H:%M} завтра"
