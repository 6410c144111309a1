"""Faults as incidents: each failing check opens one alarm per device and cause, whatever found
it (the poll, a self-test, the watch); it closes by itself as recovered when the cause is gone;
the technician's marks are refused where the device visibly still fails."""
import pytest

from support.lifehelp import SIZO, at, clock, iso, life_room, mock_factory  # noqa: F401  (fixtures)

SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1", "number": "sizo1@vks.kz"}


def incidents(room, device):
    return [a for a in room.life.alarms(open_only=False) if a["device"] == device]


def test_a_poll_failing_for_sixty_polls_makes_one_alarm_that_recovery_closes(life_room):
    room = life_room()
    room.wait_state("ready")
    cam = room.devices["cam1"]
    cam.power = "standby"                                   # the judge's camera put in standby
    room.wait(lambda: len(incidents(room, "cam1")) == 1)
    cam.wait_polls(60)                                      # 60 polls later: still one alarm, one event
    [alarm] = incidents(room, "cam1")
    assert (alarm["key"], alarm["level"], alarm["state"], alarm["code"]) == \
        ("device:cam1:power", "fault", "open", "camera.standby")
    assert [a["alarm"]["id"] for a in room.of("alarm.raised")] == [alarm["id"]]
    assert room.controller.readiness().state.value == "not_ready"
    assert room.light() == "fault" and room.pin("buzzer") is True

    with pytest.raises(ValueError, match="still fails"):    # "fixed" while it is still in standby
        room.life.mark(alarm["id"], "fixed", "Ахметов Е.")
    assert room.life.mark(alarm["id"], "fixing", "Ахметов Е.")["state"] == "fixing"
    assert room.pin("buzzer") is False                      # fixing silences the buzzer

    cam.power = "on"                                        # switched on again: it clears by itself
    room.wait(lambda: room.life.alarms() == [])
    [alarm] = incidents(room, "cam1")
    assert alarm["state"] == "recovered" and alarm["closed_at"] >= alarm["raised_at"]
    [cleared] = room.of("alarm.cleared")
    assert cleared["alarm"]["id"] == alarm["id"] and cleared["seconds"] >= 0
    room.wait_state("ready")
    assert room.light() == "ready"


def test_a_self_test_finding_opens_an_alarm_that_fixed_closes_until_the_next_test(life_room):
    room = life_room()
    room.wait_state("ready")
    room.devices["cam1"].finding = "preset_judge"           # the judge's preset is off its place
    room.controller.selftest("manual")
    room.wait(lambda: [a["key"] for a in room.life.alarms()] == ["device:cam1:preset_judge"])
    [alarm] = room.life.alarms()
    room.devices["cam1"].finding = None                     # the technician stores the preset again
    assert room.life.mark(alarm["id"], "fixed", "Ахметов Е.")["state"] == "fixed"   # the poll cannot see it
    room.wait_state("ready")                                # the finding is gone with the mark...
    room.controller.selftest("manual")                      # ...and the next test finds nothing
    assert room.life.alarms() == [] and len(incidents(room, "cam1")) == 1

    room.devices["cam1"].finding = "preset_judge"           # found again: a new incident
    room.controller.selftest("manual")
    room.wait(lambda: len(room.life.alarms()) == 1)
    assert room.life.alarms()[0]["id"] != alarm["id"]


def test_a_lost_device_is_one_alarm_through_first_aid_and_an_optional_one_is_a_warning(life_room):
    room = life_room()
    room.wait_state("ready")
    room.devices["cam2"].up.clear()                         # optional, no relay: declared at once
    room.wait(lambda: [a["key"] for a in room.life.alarms()] == ["device:cam2:online"])
    assert room.life.alarms()[0]["level"] == "warning" and room.light() == "warning"
    room.devices["cam2"].up.set()
    room.wait(lambda: room.life.alarms() == [])
    assert [a["state"] for a in incidents(room, "cam2")] == ["recovered"]


def test_a_codec_that_does_not_answer_the_poll_nor_the_self_test_is_one_alarm_and_one_act_line(life_room, clock):
    room = life_room()
    room.wait_state("ready")
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "2-101/2025",
                                               "start": iso(9, "10:00"), "far_side": SIZO})
    lost_at = clock.now()
    room.devices["codec"].up.clear()                        # unplugged: the poll loses it, first aid begins
    room.wait(lambda: room.life.first_aid().get("codec", {}).get("state") == "power_off")
    room.controller.selftest("manual")                      # the self-test finds it too: not answering...
    seen = room.controller.readiness().device("codec")
    assert [c.code for c in seen.checks if c.check == "reachable" and not c.ok] == ["device.unreachable"]
    assert room.light() != "fault" and not [a for a in room.life.alarms() if a["device"] == "codec"]
    clock.advance(room.life.settings.relay_off_s)           # ...but its alarm waits for first aid, as the poll's
    room.wait(lambda: room.life.first_aid().get("codec", {}).get("state") == "power_on")
    room.controller.selftest("manual")
    assert not [a for a in room.life.alarms() if a["device"] == "codec"]
    clock.advance(room.life.settings.first_aid_wait_s)
    room.wait(lambda: room.life.first_aid().get("codec", {}).get("state") == "failed")   # now it stands
    room.controller.selftest("manual")                      # and the next self-test's word is the same fault
    [alarm] = [a for a in room.life.alarms() if a["device"] == "codec"]
    assert alarm["code"] == "device.unreachable"
    assert alarm["raised_at"] == lost_at                    # when the poll lost it, not when first aid gave up
    assert [a["action"] for a in alarm["evidence"]["first_aid"]] == ["first_aid.power_off", "first_aid.power_on",
                                                                     "first_aid.failed"]
    assert len([e for e in room.of("alarm.raised") if e["alarm"]["device"] == "codec"]) == 1
    with pytest.raises(ValueError, match="still fails"):    # the poll still sees it: not "fixed"
        room.life.mark(alarm["id"], "fixed", "Ахметов Е.")
    room.life.mark(alarm["id"], "cannot_be_fixed", "Ахметов Е.")
    [act] = room.life.acts.for_hearing("H1")
    assert [(f["device"], f["code"]) for f in act["facts"]["failures"]] == [("codec", "device.unreachable")]
    from vksroom.controller.acts import render
    text = render(act["facts"], "ru")
    assert text.count("Кодек не отвечает") == 1, text
    assert act["facts"]["failures"][0]["first_seen_local"] == "09.03.2025 08:00"   # first aid gave up at 08:02
    assert "08:00" in text.split("Кодек не отвечает")[1].splitlines()[1], text
    room.devices["codec"].up.set()                          # plugged back: the one alarm closes by itself
    room.wait(lambda: [a["state"] for a in incidents(room, "codec")] == ["recovered"])


def test_an_act_without_a_recorded_fault_needs_the_written_reason(life_room, clock):
    room = life_room()
    room.wait_state("ready")
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "2-101/2025",
                                               "start": iso(9, "10:00"), "far_side": SIZO})
    with pytest.raises(ValueError, match="write the reason"):
        room.life.draw_up_act("H1", "Секретарь Н.")
    act = room.life.draw_up_act("H1", "Секретарь Н.", "сторона не явилась к терминалу ВКС")
    assert act["facts"]["other_reason"] == "сторона не явилась к терминалу ВКС"
    assert act["facts"]["failures"] == []


def test_no_self_test_moves_the_cameras_during_a_hearing_but_faults_still_show(life_room):
    room = life_room()
    room.wait_state("ready")
    room.controller.set_hearing("H1")
    room.wait_state("in_hearing")
    with pytest.raises(ValueError, match="hearing is under way"):
        room.controller.run_selftest("panel")
    room.devices["cam1"].power = "standby"
    r = room.controller.wait_for(lambda r: r.verdict.value == "not_ready", 5)
    assert r is not None and r.state.value == "in_hearing" and r.device("cam1").health.value == "fault"
    room.wait(lambda: [a["key"] for a in room.life.alarms()] == ["device:cam1:power"])


def test_the_act_drawn_from_the_room_record_has_no_driver_words_in_either_language(life_room, clock):
    import io

    from pypdf import PdfReader

    from support.textkit import problems

    room = life_room()
    room.wait_state("ready")
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "2-101/2025",
                                               "start": iso(9, "10:00"), "far_side": SIZO})
    room.devices["codec"].up.clear()                        # lost: first aid by relay, which does not help
    room.wait(lambda: room.life.first_aid().get("codec", {}).get("state") == "power_off")
    clock.advance(room.life.settings.relay_off_s + room.life.settings.first_aid_wait_s)
    [alarm] = [a for a in room.life.alarms() if a["device"] == "codec"]   # (and H1's test-session warning)
    assert "gave no answer" in alarm["evidence"]["detail"]  # the driver's words: evidence only
    room.life.mark(alarm["id"], "fixing", "Ахметов Е.")
    room.life.mark(alarm["id"], "cannot_be_fixed", "Ахметов Е.")   # draws up the act for the next hearing
    [act] = room.life.acts.for_hearing("H1")
    facts = act["facts"]
    assert [f["code"] for f in facts["failures"]] == ["device.unreachable"]
    assert [t["action"] for t in facts["tried"]] == ["first_aid.power_off", "first_aid.power_on",
                                                    "first_aid.failed", "fault.marked", "fault.marked"]
    pages = [" ".join(p.extract_text().split())
             for p in PdfReader(io.BytesIO(room.life.acts.pdf(act["id"]))).pages]
    assert len(pages) == 2 and "Кодек" in pages[0] and "Кодек" in pages[1]
    for page in pages:   # the far side's VKS address (sizo1@vks.kz) is a fact the act quotes
        assert problems(page, allow_latin=("sizo", "vks", "kz")) == [], page


def test_the_act_of_a_fault_cleared_mid_hearing_says_a_technical_break_not_a_delay(life_room, clock):
    from vksroom.controller.acts import render

    room = life_room()
    room.wait_state("ready")
    room.devices["codec"].answering = {SIZO["number"]}
    room.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "2-101/2025",
                                               "start": iso(9, "08:10"), "far_side": SIZO})
    clock.advance_to(at(9, "08:10"))
    room.life.connect("H1", "Секретарь Н.")
    clock.advance(5)                                        # the far side answers
    room.wait(lambda: room.life.connected("H1"))
    clock.advance_to(at(9, "08:30"))
    room.devices["cam1"].power = "standby"                  # the judge's camera drops out mid-hearing
    room.wait(lambda: [a["key"] for a in room.life.alarms() if a["device"] == "cam1"] == ["device:cam1:power"])
    clock.advance_to(at(9, "08:42"))
    room.devices["cam1"].power = "on"
    room.wait(lambda: not [a for a in room.life.alarms() if a["device"] == "cam1"])
    ru, kk = (render(room.life.history.facts("H1"), lang) for lang in ("ru", "kk"))
    assert ("Во время судебного заседания произошёл технический перерыв продолжительностью 12 мин (с 08:30 до "
            "08:42); после устранения неисправности судебное заседание продолжено в 08:42") in ru
    assert "задерж" not in ru and "заседание не начато" not in ru
    assert "12 минуттық техникалық үзіліс болды (08:30–08:42)" in kk and "кешіктіріл" not in kk
    room.devices["cam1"].power = "standby"                  # again, and it stays out
    clock.advance_to(at(9, "08:50"))
    room.wait(lambda: [a["key"] for a in room.life.alarms() if a["device"] == "cam1"] == ["device:cam1:power"])
    ru = render(room.life.history.facts("H1"), "ru")
    assert ("Техническая неисправность, обнаруженная в 08:50, не устранена: техническая возможность продолжения "
            "судебного заседания с применением средств видеоконференцсвязи отсутствовала") in ru
