"""A court day in fast time: schedule, test sessions, pre-hearing self-tests, first aid, an act,
a degraded hearing with a reconnect, a suspension, and a restart in the middle. No sleeping: the
clock is moved by the test; only the stand-in devices' own threads run in real time.

The room runs its real MQTT link to a real broker, and a separate client plays the central
scheduler: every event the controller announces must reach it on its events topic with the same
id, kind and data, in the controller's order, and the retained readiness must be the controller's
state. Part of the schedule arrives as commands on the room's commands topic. Waiting for MQTT
delivery is real time: on conditions with deadlines."""
import io
import json
import re

import pytest
from pypdf import PdfReader

from vksroom.controller.model import CheckResult
from vksroom.mqtt import contract
from support.lifehelp import at, broker, central, clock, iso, life_room, mock_factory, retained, Panel  # noqa: F401

COURT = {"id": "court-2", "kind": "court", "name": "Районный суд № 2 г. Караганды", "number": "krg2@vks.sud.kz"}
SIZO1 = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 г. Астаны", "number": "sizo1@vks.kz"}
SIZO2 = {"id": "sizo-2", "kind": "detention", "name": "Учреждение ЕЦ-166/18", "number": "ec166@vks.kz"}


def doc(hid, hhmm, far, case, roles=("judge", "defendant")):
    return {"id": hid, "version": 1, "case_number": case, "start": iso(10, hhmm), "duration_min": 60,
            "far_side": far, "roles": list(roles)}


def run_session(room, hid, who="Ахметов Е."):
    sid = room.life.run_test_session(hid, who)
    room.clock.advance(room.life.settings.call_poll_s + room.life.settings.test_call_hold_s)
    return room.life.ledger.get(sid)


def connect(room, hid, who="Секретарь Жанова"):
    room.life.connect(hid, who)
    room.clock.advance(room.life.settings.call_poll_s)


def delivered(room, centre, before=()):
    """Every event the controller announced (``before`` a restart, then since) is on MQTT: on its
    events topic, same id, kind and data, in the controller's order, in seq order, nothing else."""
    assert room.link.flush(10), f"{len(room.link.outbox)} messages still in the outbox"
    sent = list(before) + room.announced()
    ids = [e.id for e in sent]
    centre.wait(lambda: set(ids) <= {d["id"] for d in centre.events()}, 10, "events on MQTT")
    got = centre.events()
    assert [d["id"] for d in got] == ids, (f"MQTT: {[d['kind'] for d in got]}\n"
                                           f"controller: {[e.kind for e in sent]}")
    for d, e in zip(got, sent):
        assert d["topic"] == f"{centre.base}/events/{contract.event_topic_level(e.kind)}" and d["kind"] == e.kind
        assert d["data"] == json.loads(contract.encode(e.data)) and d["ts"] == e.ts
        contract.check("event", {k: v for k, v in d.items() if k != "topic"})
    seqs = [d["seq"] for d in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    return got


def readiness_on_mqtt(room, centre, broker, state):
    """The controller is in ``state``; so is the last readiness the centre got, and the retained copy."""
    assert room.controller.readiness().state.value == state
    assert room.link.flush(10)
    last = centre.wait(lambda: (centre.docs("readiness") or [None])[-1], 10, "readiness on MQTT")
    centre.wait(lambda: centre.docs("readiness")[-1]["state"] == state, 10, f"readiness {state} on MQTT")
    kept = retained(broker, f"{centre.base}/readiness")
    assert kept["state"] == state and kept["seq"] >= last["seq"]
    contract.check("readiness", kept)
    return kept


@pytest.mark.timeout(90)
def test_a_court_day_in_fast_time(broker, central, life_room, clock, mock_factory):
    room = life_room(broker)
    centre = central("vks/ast-smas/12")
    room.wait_state("ready")
    room.wait(lambda: room.light() == "ready")
    assert room.link.ready.wait(10)
    readiness_on_mqtt(room, centre, broker, "ready")
    assert retained(broker, f"{centre.base}/lifecycle")["state"] == "ready"
    panel = Panel(room)
    assert panel.state() == ("ready", "Готов") and panel.banners() == []
    codec, cam1 = room.devices["codec"], room.devices["cam1"]
    codec.answering = {COURT["number"], SIZO1["number"], SIZO2["number"]}

    # 08:00 the day before: the centre sends the day's schedule, three hearings through the
    # controller's command entry, the others as MQTT commands answered on the replies topic.
    for d in (doc("H1", "10:00", COURT, "7199-25-00-2/101"), doc("H2", "12:00", SIZO1, "7199-25-00-1/215"),
              doc("H3", "14:30", SIZO2, "7199-25-00-1/230")):
        assert room.controller.command("hearing.create", d)["outcome"] == "created"
    reply = centre.command("hearing.create", doc("H4", "16:00", COURT, "7199-25-00-2/118"), "req-H4")
    assert (reply["status"], reply["command"], reply["result"]["outcome"]) == ("accepted", "hearing.create", "created")
    assert reply["result"]["hearing"]["start"] == iso(10, "16:00")
    reply = centre.command("hearing.create", doc("H5", "17:30", COURT, "7199-25-00-2/140"), "req-H5")
    assert reply["status"] == "accepted" and room.life.schedule.get("H5").status == "scheduled"
    assert "selftest-H5" in [name for _, name in room.life.planned()]
    reply = centre.command("hearing.cancel", {"id": "H5", "version": 2}, "req-H5-cancel")
    assert (reply["status"], reply["result"]["outcome"]) == ("accepted", "cancelled")
    assert room.life.schedule.get("H5").status == "cancelled"
    assert not [name for _, name in room.life.planned() if name.endswith("-H5")]
    late = dict(doc("H6", "10:00", COURT, "7199-25-00-2/99"), start=iso(8, "10:00"))
    reply = centre.command("hearing.create", late, "req-H6")
    assert reply["status"] == "rejected" and reply["reason"].startswith("Время начала заседания (08.03.2025 10:00)")
    assert reply["code"] == "schedule.past" and "is in the past" in reply["detail"]
    assert room.life.schedule.get("H6") is None
    assert room.kinds("hearing.") == ["hearing.created"] * 5 + ["hearing.cancelled", "hearing.rejected"]
    got = delivered(room, centre)
    assert [d["kind"] for d in got] == room.kinds("hearing.")
    assert [r["request_id"] for r in centre.docs("replies")] == ["req-H4", "req-H5", "req-H5-cancel", "req-H6"]
    planned = dict((name, when) for when, name in room.life.planned())
    assert planned["selftest-H1"] == at(10, "09:30") - 5 - 300   # finishes before the T-30 min window
    assert planned["warn-H2"] == at(9, "12:00")

    # 09:00 the day before: test sessions for H1, H3 and H4 with their far sides; none for H2.
    clock.advance_to(at(9, "09:00"))
    s1 = run_session(room, "H1")
    assert s1.result == "passed" and s1.technician == "Ахметов Е."
    assert {c["device"] for c in s1.checks} == {"cam1", "codec", "cam2"}
    assert s1.call["number"] == COURT["number"] and s1.evidence["call_seconds"] == 5.0
    assert run_session(room, "H3").passed and run_session(room, "H4").passed
    assert codec.dialled == [COURT["number"], SIZO2["number"], COURT["number"]] and codec.state == "idle"
    assert [e["hearing_id"] for e in room.of("test_session.recorded")] == ["H1", "H3", "H4"]
    got = delivered(room, centre)
    sessions = [d["data"]["session"] for d in got if d["kind"] == "test_session.recorded"]
    assert [(s["hearing_id"], s["result"], s["technician"]) for s in sessions] == [
        ("H1", "passed", "Ахметов Е."), ("H3", "passed", "Ахметов Е."), ("H4", "passed", "Ахметов Е.")]

    # From 24 h before H2 without a passed session: warning, yellow light, event to the centre.
    clock.advance_to(at(9, "11:59"))
    assert room.of("test_session.missing") == [] and room.light() == "ready"
    clock.advance_to(at(9, "12:00"))
    assert room.of("test_session.missing") == [{"hearing_id": "H2", "case_number": "7199-25-00-1/215",
                                                "start": iso(10, "12:00"), "hours_left": 24.0}]
    [warning] = room.life.alarms()
    assert (warning["key"], warning["level"]) == ("test_session:H2", "warning")
    assert room.light() == "warning" and room.pin("buzzer") is False
    [missing] = [d for d in delivered(room, centre) if d["kind"] == "test_session.missing"]
    assert missing["data"]["hearing_id"] == "H2" and missing["ts"] == at(9, "12:00")
    assert [d["data"]["alarm"]["key"] for d in delivered(room, centre) if d["kind"] == "alarm.raised"] == [
        "test_session:H2"]
    readiness_on_mqtt(room, centre, broker, "ready")   # a warning, but the equipment is ready
    assert panel.banners() == [{"level": "warning", "id": warning["id"], "state": "open", "marks": [],
                                "text": "Предупреждение: До заседания по делу 7199-25-00-1/215 осталось 24 ч, "
                                        "тестовый сеанс не проведён (Новая)"}]
    assert panel.banners("/hearings", "kk")[0]["text"].startswith("Ескерту: 7199-25-00-1/215 ісі бойынша")
    schedule = panel.page("/hearings")
    for hid, session in (("H1", "Пройден (Ахметов Е.)"), ("H2", "Тестовый сеанс не проведён"),
                         ("H3", "Пройден (Ахметов Е.)"), ("H4", "Пройден (Ахметов Е.)")):
        row = schedule.split(f'id="hearing-{hid}"')[1].split("</tr>")[0]
        assert session in re.sub(r"<[^>]+>", "", row), (hid, row)   # the words, whatever marks them up
    assert 'id="hearing-H5"' not in schedule           # cancelled by the centre

    # H1: self-test before the window, the secretary connects, the hearing runs and ends.
    clock.advance_to(at(10, "09:24"))
    assert room.of("hearing.readiness") == []
    assert [e["hearing_id"] for e in room.of("test_session.missing")] == ["H2"]   # none for cancelled H5
    clock.advance_to(at(10, "09:25"))
    [r1] = room.of("hearing.readiness")
    assert (r1["hearing_id"], r1["state"], r1["trigger"]) == ("H1", "ready", "schedule")
    clock.advance_to(at(10, "09:35"))
    connect(room, "H1")
    assert room.controller.readiness().state.value == "in_hearing"
    kept = readiness_on_mqtt(room, centre, broker, "in_hearing")
    assert kept["activity"] == "hearing"
    assert panel.state() == ("in_hearing", "Идёт заседание")
    page = panel.page("/hearings/H1")
    assert f'<tr data-session="{s1.id}" data-result="passed">' in page and ">Ахметов Е.</td>" in page
    assert 'id="readiness">Готовность (самопроверка): Готов<' in page and 'id="reconnect"' in page
    assert "connection.started" in page.split('id="record"')[1]
    clock.advance_to(at(10, "11:00"))
    assert room.controller.readiness().state.value == "ready"
    readiness_on_mqtt(room, centre, broker, "ready")
    assert panel.state() == ("ready", "Готов")
    got = delivered(room, centre)
    assert [(d["kind"], d["data"].get("state")) for d in got if d["data"].get("hearing_id") == "H1"
            and d["kind"] != "test_session.recorded"] == [
        ("hearing.readiness", "ready"), ("hearing.connection", "started"), ("hearing.started", None),
        ("hearing.connection", "ended"), ("hearing.ended", None)]
    mark = len(got)   # events so far; (room events carry wall-clock ts, lifecycle events the fast clock's)
    assert [e["event"] for e in room.life.record("H1")] == [
        "connection.dialling", "connection.started", "hearing.started", "connection.ended", "hearing.ended"]

    # Before H2: self-test, then the judge's camera hangs; first aid power-cycles it.
    clock.advance_to(at(10, "11:25"))
    assert room.of("hearing.readiness")[-1]["hearing_id"] == "H2"
    clock.advance_to(at(10, "11:28"))
    cam1.hang_until_power_cycle()
    room.wait(lambda: room.life.first_aid().get("cam1", {}).get("state") == "power_off")
    assert room.pin("relay_cam1") is True            # power cut
    assert room.light() == "warning" and room.pin("buzzer") is False
    assert not [a for a in room.life.alarms() if a["key"] == "device:cam1"]   # not declared yet
    assert [b["level"] for b in panel.banners()] == ["warning"]                 # only H2's test session
    assert 'id="dev-cam1" class="health-fault"' in panel.page("/")
    clock.advance(room.life.settings.relay_off_s)
    assert room.pin("relay_cam1") is False           # power back
    room.wait(lambda: room.life.first_aid()["cam1"]["state"] == "worked")
    room.wait(lambda: "repeat-H2" in [name for _, name in room.life.planned()])
    assert [e["action"] for e in room.of("first_aid")] == ["power_off", "power_on", "worked"]
    assert room.of("first_aid")[0]["reason"] == "Камера судьи: питание отключено реле"     # for the centre's staff
    assert [s.state for s in mock_factory.pin(5).states] == [False, True, False]
    clock.advance(0)                                  # the repeated self-test, since a fault was fixed
    assert room.of("hearing.readiness")[-1] == {**room.of("hearing.readiness")[-1], "hearing_id": "H2",
                                                "trigger": "repeat", "state": "ready"}
    assert [e["kind"] for e in room.life.log_entries(device="cam1")][::-1] == [
        "first_aid.power_off", "first_aid.power_on", "first_aid.worked"]
    got = delivered(room, centre)[mark:]
    assert [(d["kind"], d["data"].get("action") or d["data"].get("trigger") or d["data"].get("device"))
            for d in got if d["kind"] not in ("selftest.started", "selftest.finished")] == [
        ("hearing.readiness", "schedule"), ("fault", "cam1"), ("first_aid", "power_off"), ("first_aid", "power_on"),
        ("recovered", "cam1"), ("first_aid", "worked"), ("hearing.readiness", "repeat")]
    readiness_on_mqtt(room, centre, broker, "ready")
    clock.advance_to(at(10, "11:35"))
    connect(room, "H2")
    clock.advance_to(at(10, "12:30"))
    room.life.end("H2", "Секретарь Жанова")
    assert room.life.alarms() == [] and room.light() == "ready"   # H2's warning ends with H2
    got = delivered(room, centre)
    assert [d["data"]["alarm"]["key"] for d in got if d["kind"] == "alarm.cleared"] == ["test_session:H2"]
    mark = len(got)

    # H3: the detention centre never answers; alarm, marks, the act.
    codec.answering.discard(SIZO2["number"])
    clock.advance_to(at(10, "14:00"))
    room.life.connect("H3", "Секретарь Жанова")
    clock.advance(room.life.settings.call_timeout_s)
    [call] = [a for a in room.life.alarms() if a["key"] == "call:H3"]
    [banner] = panel.banners()
    assert banner == {"level": "fault", "id": call["id"], "state": "open", "marks": ["fixing", "fixed", "cannot_be_fixed"],
                      "text": "Неисправность: Дальняя сторона («Учреждение ЕЦ-166/18») не ответила за 60 с (Новая)"}
    assert panel.banners("/hearings/H3", "kk")[0]["text"] == (
        "Ақаулық: Қарсы тарап («Учреждение ЕЦ-166/18») 60 с ішінде жауап бермеді (Жаңа)")
    assert call["message"] == "The far side (“Учреждение ЕЦ-166/18”) did not answer within 60 s"   # for the log
    assert call["evidence"]["number"] == SIZO2["number"] and call["evidence"]["state"] == "connecting"
    assert room.of("alarm.raised")[-1]["alarm"]["id"] == call["id"]
    assert room.light() == "fault" and room.pin("buzzer") is True
    got = delivered(room, centre)
    assert [(d["kind"], d["data"].get("state")) for d in got[mark:]] == [   # H3's self-test at 13:54:55
        ("selftest.started", None), ("selftest.finished", "ready"), ("hearing.readiness", "ready"),
        ("hearing.connection", "failed"), ("alarm.raised", None)]
    assert got[-2]["data"]["call_state"] == "connecting" and got[-2]["data"]["number"] == SIZO2["number"]
    assert got[-1]["data"]["alarm"]["evidence"]["number"] == SIZO2["number"]
    assert got[-1]["data"]["alarm"]["reason"] == "Дальняя сторона («Учреждение ЕЦ-166/18») не ответила за 60 с"

    # 14:02: the broker goes down (the court's network); what the room says waits in its outbox.
    broker.stop()
    held = len(room.announced())
    assert panel.post(f"/alarms/{call['id']}/mark", mark="fixing", who="Ахметов Е.") == 303   # the technician
    assert room.pin("buzzer") is False and room.light() == "fault"
    [banner] = panel.banners()
    assert banner["state"] == "fixing" and banner["text"].endswith("60 с (Устраняется, Ахметов Е.)")
    room.controller.command("fault.mark", {"alarm_id": call["id"], "mark": "cannot_be_fixed", "by": "Ахметов Е.",
                                           "note": "канал связи учреждения недоступен"})
    assert [m["mark"] for m in room.of("fault.marked")] == ["fixing", "cannot_be_fixed"]
    assert room.of("fault.marked")[-1]["alarm"]["state"] == "cannot_be_fixed"
    [created] = room.of("act.created")
    assert created["hearing_id"] == "H3"
    act = room.life.acts.get(created["act_id"])
    assert "7199-25-00-1/230" in act["text_ru"] and "Номер дела" in act["text_ru"]
    assert "Іс нөмірі: 7199-25-00-1/230" in act["text_kk"] and "30.03" not in act["text_kk"]
    assert "10.03.2025 14:30" in act["text_ru"] and "Учреждение ЕЦ-166/18" in act["text_kk"]
    assert [(b["state"], b["marks"]) for b in panel.banners()] == [("cannot_be_fixed", ["fixing", "fixed",
                                                                                          "cannot_be_fixed"])]
    page = panel.page("/hearings/H3")
    assert f'href="/acts/{created["act_id"]}"' in page and f'href="/acts/{created["act_id"]}.pdf"' in page
    assert 'data-result="passed"' in page.split('id="sessions"')[1].split("</table>")[0]
    assert "connection.failed" in page.split('id="record"')[1].split("</table>")[0]
    page = panel.page(f"/acts/{created['act_id']}")
    assert "Іс нөмірі: 7199-25-00-1/230" in page and "Номер дела: 7199-25-00-1/230" in page
    waiting = [e.id for e in room.announced()[held:]]
    assert [e.kind for e in room.announced()[held:]] == ["fault.marked", "fault.marked", "act.created"]
    assert not {d["id"] for d in centre.events()} & set(waiting)
    assert set(waiting) <= {m.doc.get("id") for m in room.link.outbox.pending(0, 1000)}

    # 14:10: the controller restarts, the broker still down. Nothing is lost; what was planned still happens.
    clock.advance_to(at(10, "14:10"))
    before = {"hearings": [h.id for h in room.life.schedule.hearings()],
              "sessions": [(s.hearing_id, s.result) for s in room.life.ledger.sessions()],
              "alarms": [(a["key"], a["state"]) for a in room.life.alarms()]}
    earlier = room.announced()   # what the first controller announced, the last three not yet sent
    room.stop(link_timeout=2)
    room = life_room(broker)
    room.wait_state("ready")
    assert set(waiting) <= {m.doc.get("id") for m in room.link.outbox.pending(0, 1000)}   # kept on disk
    broker.start()                                      # the network is back
    assert room.link.ready.wait(10)
    got = delivered(room, centre, earlier)              # the held events first, in order, then the new ones
    assert [d["kind"] for d in got[held:held + 3]] == ["fault.marked", "fault.marked", "act.created"]
    assert [d["data"]["alarm"]["state"] for d in got if d["kind"] == "fault.marked"] == ["fixing", "cannot_be_fixed"]
    assert got[held]["data"]["by"] == "Ахметов Е."
    [announced] = [d for d in got if d["kind"] == "act.created"]
    assert announced["data"]["act_id"] == created["act_id"] and announced["data"]["facts"]["case_number"] == \
        "7199-25-00-1/230"
    readiness_on_mqtt(room, centre, broker, "ready")   # the retained readiness and lifecycle come back
    assert retained(broker, f"{centre.base}/lifecycle")["state"] == "ready"
    # the same message twice in a row is its retained copy, sent again on the centre's resubscription
    lifecycle = [d for i, d in enumerate(centre.docs("lifecycle")) if i == 0 or d != centre.docs("lifecycle")[i - 1]]
    assert [d["state"] for d in lifecycle[-2:]] == ["init", "ready"]
    assert [h.id for h in room.life.schedule.hearings()] == before["hearings"] == ["H1", "H2", "H3", "H4"]
    assert [(s.hearing_id, s.result) for s in room.life.ledger.sessions()] == before["sessions"]
    assert [(a["key"], a["state"]) for a in room.life.alarms()] == before["alarms"] == [("call:H3", "cannot_be_fixed")]
    assert [a["id"] for a in room.life.acts.for_hearing("H3")] == [created["act_id"]]
    room.wait(lambda: room.light() == "fault")
    assert room.pin("buzzer") is False
    assert "selftest-H4" in [name for _, name in room.life.planned()]
    codec, cam1 = room.devices["codec"], room.devices["cam1"]
    codec.answering = {COURT["number"]}
    panel = Panel(room)                                # the panel of the restarted controller
    assert panel.state() == ("ready", "Готов")
    assert [(b["id"], b["state"]) for b in panel.banners()] == [(call["id"], "cannot_be_fixed")]
    assert f'href="/acts/{created["act_id"]}"' in panel.page("/hearings/H3")

    # The act, edited before printing, printed in both languages with three signature lines.
    room.life.acts.edit(created["act_id"], {"ru": act["text_ru"] + "\nСторона уведомлена по телефону."},
                        "Секретарь Жанова")
    pdf = room.life.acts.pdf(created["act_id"])
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    for part in ("АКТ", "об отсутствии технической возможности применения средств видеоконференцсвязи",
                 "техникалық мүмкіндігінің болмағаны туралы", "7199-25-00-1/230", "Сторона уведомлена по телефону",
                 "Заведующий канцелярией", "Секретарь судебного заседания", "Технический специалист",
                 "Кеңсе меңгерушісі", "Сот отырысының хатшысы", "Техникалық маман", "Ахметов Е."):
        assert part in text, part
    with pytest.raises(ValueError, match="The act is printed"):
        room.life.acts.edit(created["act_id"], {"ru": "другое"}, "Секретарь Жанова")

    # H3's time passes without VKS; its alarm closes with it.
    clock.advance_to(at(10, "15:31"))
    assert room.life.alarms() == [] and room.light() == "ready"
    assert room.controller.readiness().state.value == "ready"
    assert panel.banners() == [] and panel.state() == ("ready", "Готов")

    # H4: the planned self-test ran after the restart; the video degrades midway.
    assert room.of("hearing.readiness")[-1]["hearing_id"] == "H4"
    clock.advance_to(at(10, "15:35"))
    connect(room, "H4")
    clock.advance_to(at(10, "16:20"))
    mark = len(delivered(room, centre, earlier))
    for _ in range(4):
        room.life.report([CheckResult("cam1", "frame", False, "", 0.0, "camera.video.frozen")])
        clock.advance(5)
    assert room.of("break.recommended") == []        # 15 s: not yet lasting
    room.life.report([CheckResult("cam1", "frame", False, "", 0.0, "camera.video.frozen")])
    [brk] = room.of("break.recommended")
    assert (brk["hearing_id"], brk["device"], brk["check"], brk["seconds"]) == ("H4", "cam1", "frame", 20)
    assert room.light() == "fault" and room.life.break_recommended("H4")   # the picture's alarm is open too
    assert panel.state() == ("in_hearing", "Идёт заседание")
    for path in ("/", "/hearings/H4"):                # the banner is on every page, with its button
        assert panel.break_banner(path) == ("Качество связи ухудшилось: рекомендуется технический перерыв "
                                            "(Камера судьи: изображение застыло)")
    assert panel.break_banner("/hearings/H4", "kk").startswith("Байланыс сапасы төмендеді")
    readiness_on_mqtt(room, centre, broker, "in_hearing")
    [on_mqtt] = [d for d in delivered(room, centre, earlier) if d["kind"] == "break.recommended"]
    assert on_mqtt["data"]["hearing_id"] == "H4" and on_mqtt["data"]["seconds"] == 20
    assert on_mqtt["data"]["reason"] == "Камера судьи: изображение застыло"      # what the centre's staff read
    assert panel.post("/hearings/H4/reconnect", who="Секретарь Жанова") == 303   # the secretary's button
    assert panel.break_banner("/hearings/H4") is None
    clock.advance(room.life.settings.call_poll_s)
    assert room.life.connected("H4") and codec.hangups >= 1
    room.life.report([CheckResult("cam1", "frame", True, "", 1.0)])
    assert room.light() == "ready"
    record = panel.page("/hearings/H4").split('id="record"')[1].split("</table>")[0]
    assert "<td>Начато переподключение к дальней стороне</td><td translate=\"no\">Секретарь Жанова</td>" in record and "reconnect.done" in record
    clock.advance_to(at(10, "17:00"))
    events = [e["event"] for e in room.life.record("H4")]
    assert events == ["connection.dialling", "connection.started", "hearing.started", "break.recommended",
                      "reconnect.started", "connection.ended", "connection.started", "reconnect.done",
                      "connection.ended", "hearing.ended"]
    csv_text = room.life.export_record("H4", "csv")
    assert csv_text.splitlines()[0] == "Время (по Гринвичу),Время (по времени суда),Событие,Кто,Подробности,Код события"
    assert "2025-03-10 16:20:20,Качество связи ухудшилось: рекомендован технический перерыв," in csv_text
    assert room.life.export_record("H4", "csv", "kk").splitlines()[0].startswith("Уақыты (Гринвич бойынша),")
    assert room.controller.readiness().state.value == "ready"
    got = delivered(room, centre, earlier)
    assert [(d["kind"], d["data"].get("state")) for d in got[mark:] if d["data"].get("hearing_id") == "H4"] == [
        ("break.recommended", None), ("hearing.connection", "ended"), ("hearing.connection", "started"),
        ("hearing.connection", "ended"), ("hearing.ended", None)]
    [redial] = [d for d in got[mark:] if d["kind"] == "hearing.connection" and d["data"]["state"] == "started"]
    assert redial["data"]["reconnect"] is True
    # why the call and the hearing ended: a sentence in the room's language, the cause by its key
    ends = [(d["data"]["cause"], d["data"]["reason"]) for d in got[mark:] if d["data"].get("hearing_id") == "H4"
            and (d["kind"] == "hearing.ended" or d["data"].get("state") == "ended")]
    assert ends == [("reconnect", "Соединение завершено для переподключения"),
                    ("hearing_ended", "Соединение завершено, так как заседание окончено"),
                    ("scheduled", "Заседание окончено: назначенное время истекло")]
    assert {"test_session.missing", "hearing.readiness", "alarm.raised", "first_aid", "fault.marked", "act.created",
            "break.recommended", "hearing.connection"} <= {d["kind"] for d in got}

    # 17:05: the centre suspends VKS (a riot at the institution): no tests, the room shows it.
    reply = centre.command("vks.suspend", {"reason": "массовые беспорядки в учреждении"}, "req-suspend")
    assert (reply["status"], reply["result"]) == ("accepted", {"state": "suspended"})
    kept = readiness_on_mqtt(room, centre, broker, "suspended")
    assert kept["reasons"][0] == "ВКС приостановлена: массовые беспорядки в учреждении"   # the room speaks ru
    room.wait(lambda: room.light() == "suspended")
    assert panel.state() == ("suspended", "ВКС приостановлена")
    assert "ВКС приостановлена: массовые беспорядки в учреждении" in panel.page("/")
    with pytest.raises(ValueError, match="suspended"):
        room.life.run_test_session("H4", "Ахметов Е.")
    reply = centre.command("selftest.run", {}, "req-selftest")
    assert reply["status"] == "rejected" and reply["reason"] == "ВКС приостановлена: проверки и вызовы невозможны"
    reply = centre.command("vks.resume", {}, "req-resume")
    assert (reply["status"], reply["result"]) == ("accepted", {"state": "ready"})
    readiness_on_mqtt(room, centre, broker, "ready")
    room.wait(lambda: room.light() == "ready")
    assert panel.state() == ("ready", "Готов")
    delivered(room, centre, earlier)
