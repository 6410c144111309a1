"""The planner's edges: GPIO button and lights, suspension, commands with bad input,
a fault declared when first aid does not help."""
import pytest

from support.lifehelp import at, clock, iso, life_room, mock_factory  # noqa: F401  (fixtures)

SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1", "number": "sizo1@vks.kz"}


def test_the_button_runs_a_self_test_and_suspension_turns_the_light_blue_and_stops_tests(life_room, clock):
    room = life_room()
    room.wait_state("ready")
    room.wait(lambda: room.light() == "ready")
    room.factory.pin(24).drive_low()                  # the "run self-test" button
    room.wait(lambda: "selftest.finished" in room.kinds())
    assert room.controller.store.runs(1)[0]["trigger"] == "button"
    room.factory.pin(24).drive_high()
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "A-1",
                                               "start": iso(9, "10:00"), "far_side": SIZO})
    room.controller.command("vks.suspend", {"reason": "чрезвычайное положение"})
    room.wait(lambda: room.light() == "suspended")
    with pytest.raises(ValueError, match="suspended"):
        room.life.run_test_session("H1", "Ахметов")
    clock.advance_to(at(9, "09:30"))                  # the planned self-test is skipped, logged
    assert [e["kind"] for e in room.life.log_entries() if e["kind"] == "selftest.skipped"]
    assert room.of("hearing.readiness") == []
    room.controller.command("vks.resume", {})
    room.wait(lambda: room.life.suspended is None and any(n == "selftest-H1" for _, n in room.life.planned()))
    clock.advance(0)                                  # re-planned: it runs now
    assert room.of("hearing.readiness")[-1]["hearing_id"] == "H1"


def test_commands_refuse_bad_input_and_tell_the_centre(life_room):
    room = life_room()
    with pytest.raises(ValueError, match=r"start \(08.03.2025 10:00\) has passed"):
        room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "A",
                                                   "start": iso(8, "10:00"), "far_side": SIZO})
    [rejected] = room.of("hearing.rejected")
    assert rejected["codes"] == ["schedule.past"] and rejected["errors"][0].startswith("Время начала заседания")
    assert rejected["detail"].startswith("start: 2025-03-08 10:00")
    with pytest.raises(ValueError, match="“mark” must be one of: fixing, fixed, cannot_be_fixed"):
        room.controller.command("fault.mark", {"alarm_id": 1, "mark": "broken", "by": "x"})
    with pytest.raises(ValueError, match="no such alarm"):
        room.controller.command("fault.mark", {"alarm_id": 99, "mark": "fixed", "by": "x"})
    with pytest.raises(ValueError, match="no such hearing"):
        room.life.connect("H9", "x")
    assert room.controller.command("hearing.cancel", {"id": "H1", "version": 5})["outcome"] == "cancelled"
    assert room.controller.command("hearing.create", {"id": "H1", "version": 4, "case_number": "A",
                                                      "start": iso(10, "10:00"), "far_side": SIZO})["outcome"] == "stale"
    assert room.life.schedule.hearings() == []


def test_first_aid_that_does_not_help_declares_the_fault_with_what_was_tried(life_room, clock):
    room = life_room()
    room.wait_state("ready")
    room.devices["codec"].up.clear()                  # no relay history will bring it back
    room.wait(lambda: room.life.first_aid().get("codec", {}).get("state") == "power_off")
    assert room.pin("relay_codec") is True
    clock.advance(room.life.settings.relay_off_s)
    assert room.pin("relay_codec") is False
    assert not room.life.alarms()
    clock.advance(room.life.settings.first_aid_wait_s)
    [alarm] = room.life.alarms()
    assert alarm["key"] == "device:codec:online" and alarm["level"] == "fault"
    assert [a["action"] for a in alarm["evidence"]["first_aid"]] == ["first_aid.power_off", "first_aid.power_on",
                                                                     "first_aid.failed"]
    assert room.light() == "fault" and room.pin("buzzer") is True
    room.devices["codec"].up.set()                    # the technician replaced the cable
    room.wait(lambda: room.life.alarms() == [])
    cleared = room.of("alarm.cleared")[-1]
    assert (cleared["why"], cleared["reason"]) == ("alarm.closed.recovered", "Устройство снова проходит проверку")
    room.wait(lambda: room.light() == "ready")
    assert room.pin("buzzer") is False


def test_a_dial_the_codec_cannot_place_is_said_by_key_its_error_kept_as_detail(life_room, clock):
    room = life_room()
    room.wait_state("ready")
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "A-1",
                                               "start": iso(9, "08:30"), "far_side": SIZO})
    room.devices["codec"].up.clear()                  # the codec's cable is out as the secretary connects
    room.life.connect("H1", "Секретарь")
    [failed] = room.of("hearing.connection")
    assert failed["state"] == "failed" and failed["call_state"] == "dial_failed"   # a key, not the driver's words
    assert failed["detail"] == "codec gave no answer within 0.2 s"                   # which stay for the technician
    assert room.life.record("H1")[-1]["detail"]["state"] == "dial_failed"
    record = room.life.export_record("H1", "csv")
    assert ",Вызов дальней стороны не выполнен: кодек не смог его начать,Секретарь," in record
    [alarm] = [a for a in room.life.alarms() if a["key"] == "call:H1"]
    assert alarm["reason"] == "Вызов дальней стороны («СИЗО-1») не выполнен: кодек не смог его начать"
    sid = room.life.run_test_session("H1", "Ахметов")          # the test session: its call is not placed either
    room.wait(lambda: room.life.ledger.get(sid).result == "failed", 10)
    assert room.life.ledger.get(sid).notes.endswith("Тестовый вызов не выполнен")   # not "the far side did not answer"


def test_a_test_session_cut_by_a_restart_is_noted_in_the_rooms_language(life_room):
    room = life_room()
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "A-1",
                                               "start": iso(9, "12:00"), "far_side": SIZO})
    sid = room.life.ledger.begin("H1", "Ахметов", SIZO)        # under way as the room stops
    room.stop()
    again = life_room()
    session = again.life.ledger.get(sid)
    assert (session.result, session.notes) == ("aborted", "Контроллер зала перезапустился во время тестового сеанса")
