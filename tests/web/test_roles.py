"""Roles from the rules (issue 12): each panel action is run only by the roles its declaration
names (controller/commands.py); anyone else is refused with a translated 403 and nothing runs."""
import pytest
from werkzeug.security import generate_password_hash

from vksroom.controller import commands as cmds
from vksroom.web import auth

from support.lifehelp import at, clock, iso, life_room, mock_factory  # noqa: F401  (fixtures)

PASSWORD = "correct horse"
HASH = generate_password_hash(PASSWORD)
PEOPLE = auth.PEOPLE_ROLES
SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 г. Астаны", "number": "sizo1@vks.kz"}
URL_VALUES = {"hid": "H1", "alarm_id": 1, "act_id": 1, "device_id": "cam1", "dev_id": "cam1", "role": "judge",
              "device": "codec", "channel": "judge"}


NAMES = {cmds.TECHNICIAN: "Техник А. Серикова", cmds.SECRETARY: "Секретарь Е. Жанова"}   # ``display``


@pytest.fixture
def panel_config():
    return {"USERS": {r.replace("_", "-"): {"hash": HASH, "roles": (r,), **({"display": NAMES[r]} if r in NAMES
                                                                               else {})} for r in PEOPLE}}


def as_role(app, role):
    client = app.test_client()
    resp = client.post("/login", data={"user": role.replace("_", "-"), "password": PASSWORD})
    assert resp.status_code == 303, role
    return client


def declared_actions(app):
    for rule in app.url_map.iter_rules():
        command = cmds.for_endpoint(rule.endpoint)
        if command is not None:
            yield command, rule.endpoint


def test_every_action_refuses_every_role_it_does_not_name(app, room):
    from flask import url_for

    clients = {role: as_role(app, role) for role in PEOPLE}
    refused = 0
    for command, endpoint in declared_actions(app):
        with app.test_request_context():
            path = url_for(endpoint, **{k: v for k, v in URL_VALUES.items()
                                        if k in app.url_map._rules_by_endpoint[endpoint][0].arguments})
        for role in set(PEOPLE) - set(command.roles):
            resp = clients[role].post(path, headers={"Accept": "application/json"})
            assert resp.status_code == 403, (command.name, role, resp.status_code)
            assert resp.get_json()["code"] == "security.forbidden"
            audit = room.store.panel_audit(1)[0]
            assert (audit["status"], audit["action"], audit["user"]) == (403, command.name, role.replace("_", "-"))
            refused += 1
    assert refused > 40
    assert room.store.runs(1) == []                      # the self-test among them never ran


def test_the_refusal_names_who_does_it_in_the_users_language(app):
    head = as_role(app, cmds.HEAD)
    page = head.post("/selftest?lang=kk")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "Сіздің рөліңіз бұл әрекетке рұқсат бермейді" in text
    assert "Техникалық маман" in text and "Сот отырысының хатшысы" in text and "technician" not in text


def test_a_bare_hash_is_a_technician_and_a_post_that_declares_no_action_is_refused(app, room):
    app.add_url_rule("/undeclared", "undeclared", lambda: "ran", methods=["POST"])
    app.config["USERS"] = {"tech-ivanov": HASH}
    tech = as_role(app, "tech_ivanov")
    assert tech.post("/selftest", headers={"Accept": "application/json"}).status_code == 202
    assert tech.post("/hearings/H1/connect", headers={"Accept": "application/json"}).status_code == 403
    assert tech.post("/undeclared").status_code == 403


# -- the day, each step by its role, the others refused ---------------------------------------------

@pytest.fixture
def room(request):
    """The stand-in room; for the day, a room on the fast clock with a detention centre to call."""
    if not request.node.name.startswith("test_the_day"):
        return request.getfixturevalue("stand_in")[0]
    request.node.day = day = request.getfixturevalue("life_room")()
    day.wait_state("ready")
    day.controller.command("farside.set", SIZO)
    return day.controller


def test_the_day_each_step_by_its_role(app, request, clock):
    life = request.node.day
    people = {role: as_role(app, role) for role in PEOPLE}
    secretary, technician, head, admin = (people[r] for r in (cmds.SECRETARY, cmds.TECHNICIAN, cmds.HEAD,
                                                              cmds.ADMINISTRATOR))

    def step(path, by, refused, data=None, ok=(303,)):
        for client in refused:
            resp = client.post(path, data=data or {})
            assert resp.status_code == 403, (path, resp.status_code)
        resp = by.post(path, data=data or {})
        assert resp.status_code in ok, (path, resp.status_code, resp.get_data(as_text=True)[:300])
        return resp

    hearing = {"case_number": "7199-25-00-1/230", "date": "2025-03-09", "time": "09:00", "far_side": "sizo-1"}
    step("/hearings", secretary, (technician, admin), hearing)
    [h] = life.life.schedule.hearings()
    step("/selftest", technician, (head, admin))
    step(f"/hearings/{h.id}/test-session/record", technician, (secretary, head, admin), {"result": "passed"})
    step(f"/hearings/{h.id}/connect", secretary, (technician, head, admin))
    clock.advance(60)                                    # the far side does not answer: an alarm
    [alarm] = [a for a in life.life.alarms() if a["key"] == f"call:{h.id}"]
    step(f"/alarms/{alarm['id']}/mark", technician, (secretary, head, admin), {"mark": "cannot_be_fixed"})
    assert life.of("fault.marked")[-1]["by"] == "Техник А. Серикова"   # signed by the logged-in user's name
    header = technician.get("/hearings?lang=kk").get_data(as_text=True).split("</header>")[0]
    assert "Техник А. Серикова" in header and ">technician<" not in header
    record = secretary.get(f"/hearings/{h.id}/record.csv").get_data(as_text=True)
    assert ",Секретарь Е. Жанова," in record and ",secretary," not in record
    step(f"/hearings/{h.id}/end", secretary, (technician, head, admin), {"confirm": "yes"}, ok=(303, 409))
    [act] = life.life.acts.for_hearing(h.id)
    assert "Технический специалист: Техник А. Серикова" in act["text_ru"]
    assert head.get(f"/acts/{act['id']}").status_code == 200          # the head of chancellery reads it
    step(f"/acts/{act['id']}", secretary, (technician, head, admin), {"ru": act["text_ru"] + "\nИсправлено."},
         ok=(200,))
    assert admin.get("/hearings").status_code == 200


def test_pages_can_ask_what_their_user_may_do(app):
    from flask import g, render_template_string

    with app.test_request_context("/"):
        g.roles = (cmds.SECRETARY,)
        shown = render_template_string("{{ may('hearing.connect') }} {{ may('camera.store') }}")
    assert shown == "True False"
