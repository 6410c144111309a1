"""Every command declared once (controller/commands.py), every declaration handled, and a
command's arguments checked against its declaration before anything runs."""
import pytest

from vksroom.controller import commands as cmds
from vksroom.controller.model import RoomState
from vksroom.controller.texts import Refused
from vksroom.web import auth, create_app


@pytest.fixture
def room(make_room):
    room, _ = make_room()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    return room


def test_every_declared_command_has_its_handler_and_every_handler_a_declaration(room):
    assert sorted(room.commands()) == sorted(cmds.MQTT_COMMANDS)
    for c in cmds.COMMANDS.values():
        assert callable(c.resolve(room)), f"{c.name}: its handler {c.handler} is not a method of the room"
    with pytest.raises(ValueError, match="without a declaration.*room.explode"):
        room.attach(object(), {"room.explode": lambda a: {}})
    with pytest.raises(ValueError, match="handled twice.*vks.suspend"):
        room.attach(object(), {"vks.suspend": lambda a: {}})


def test_every_panel_action_is_declared_and_every_declared_action_is_served(room):
    app = create_app(room, {"TESTING": True})
    acting = {r.endpoint for r in app.url_map.iter_rules() if r.methods - {"GET", "HEAD", "OPTIONS"}}
    undeclared = {e for e in acting - auth.NOT_ACTIONS if cmds.for_endpoint(e) is None}
    assert not undeclared, f"panel actions with no declaration in controller/commands.py: {sorted(undeclared)}"
    served = {r.endpoint for r in app.url_map.iter_rules()}
    missing = {e for c in cmds.COMMANDS.values() for e in c.panel if e not in served}
    assert not missing, f"declared panel endpoints the panel does not serve: {sorted(missing)}"


def test_declared_roles_are_the_courts_roles():
    assert set(cmds.ROLES) == {"secretary", "technician", "head_of_chancellery", "administrator", "centre"}
    assert all(c.roles and set(c.roles) <= set(cmds.ROLES) for c in cmds.COMMANDS.values())
    assert cmds.COMMANDS["vks.suspend"].roles == ("centre",)


FAR = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1", "number": "sip:1001@10.0.0.5"}
HEARING = {"id": "H1", "version": 1, "case_number": "7199-25-00-1/230", "start": "2030-03-10T05:00:00Z",
           "far_side": "sizo-1"}
BAD = {  # command, args, code, field
    "text not a string": ("selftest.run", {"trigger": {"a": 1}}, "refused.arg_type", "trigger"),
    "surrogate in text": ("vks.suspend", {"reason": "riot\ud800"}, "refused.arg_characters", "reason"),
    "control character": ("vks.suspend", {"reason": "riot\x1b[2J"}, "refused.arg_characters", "reason"),
    "blank": ("vks.suspend", {"reason": "   "}, "refused.arg_empty", "reason"),
    "missing": ("vks.suspend", {}, "refused.arg_missing", "reason"),
    "unknown field": ("vks.resume", {"force": True}, "refused.arg_unknown", "force"),
    "huge version": ("hearing.create", {**HEARING, "version": 10 ** 30}, "refused.arg_range", "version"),
    "boolean version": ("hearing.cancel", {"id": "H1", "version": True}, "refused.arg_type", "version"),
    "long far-side name": ("farside.set", {**FAR, "name": "n" * 60_000}, "refused.arg_too_long", "name"),
    "nested field": ("hearing.create", {**HEARING, "far_side": {**FAR, "kind": "moon"}}, "refused.arg_choice",
                     "far_side.kind"),
    "deep nesting": ("hearing.create", {**HEARING, "roles": [[[["judge"]]]]}, "refused.arg_type", "roles[0]"),
    "pretends to be the panel": ("hearing.create", {**HEARING, "source": "panel"}, "refused.arg_unknown", "source"),
    "not an object": ("status.send", ["x"], "refused.arg_type", "args"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_argument_is_refused_by_name_and_changes_nothing(case, room):
    name, args, code, field = BAD[case]
    before, events = room.readiness(), []
    room.events.subscribe(events.append)
    with pytest.raises(Refused) as refused:
        room.command(name, args)
    assert (refused.value.code, refused.value.params["field"]) == (code, field)
    assert f"«{field}»" in refused.value.say("ru") and f"“{field}”" in refused.value.say("en")
    assert room.readiness() is before and events == []
    assert room.lifecycle.schedule.far_sides() == {} and room.lifecycle.schedule.hearings() == []
    assert room.store.runs(1) == []


def test_good_arguments_still_run(room):
    assert room.command("farside.set", FAR)["name"] == "СИЗО-1"
    assert room.command("hearing.create", HEARING)["outcome"] == "created"
    assert room.command("hearing.cancel", {"id": "H1", "version": 2})["outcome"] == "cancelled"
    assert room.command("vks.suspend", {"reason": "order 12\u00a0of the court"}) == {"state": "suspended"}
    with pytest.raises(Refused, match="no such command"):
        room.command("room.explode", {})
