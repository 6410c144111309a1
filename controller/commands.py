"""Every command the room takes, declared once: from the centre (MQTT) and from the panel.

A declaration names the command, its arguments (types, which are required, bounds), the
handler that runs it (a method of the controller or of the lifecycle; the handlers stay
where they are), the roles that may run it and one line saying what it does. The MQTT
contract (``mqtt/contract.py``, its generated document) and the panel (``web/auth.py``)
read this table; :meth:`Controller.command` checks every command's arguments against it
before the handler runs, so a bad argument is refused by name and changes nothing::

    check(COMMANDS["vks.suspend"], {"reason": 5})
    -> Refused("refused.arg_type", field="reason", kind={"kk": "мәтін", "ru": "текст", "en": "text"})

Rules for every argument: text carries no control characters (a ``multiline`` text may hold
line breaks and tabs) and no lone surrogates (which are not text, and which no reader can
write out again); integers and numbers stay within declared bounds, never beyond
:data:`MAX_INT`; an object takes only its declared fields. Validation follows the
declaration, never the value, so it goes no deeper than the declaration does (at most
:data:`MAX_DEPTH` levels): a value nested deeper is refused where the declaration ends.

Roles (:data:`ROLES`): who may run a command. The panel reads them for each action it
serves (``panel`` names the Flask endpoints) and refuses a user with none of them
(``web/auth.py``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar

from vksroom.controller import texts as tx
from vksroom.controller.lifecycle.incidents import MARKS
from vksroom.controller.schedule import FAR_SIDE_ID, FAR_SIDE_KINDS, HEARING_ID, NUMBER
from vksroom.controller.texts import Refused

MAX_DEPTH = 32                 # no command is declared deeper; the MQTT envelope refuses more
MAX_INT = 2 ** 53 - 1          # the largest integer every JSON reader keeps exactly

SECRETARY, TECHNICIAN, HEAD, ADMINISTRATOR, CENTRE = (
    "secretary", "technician", "head_of_chancellery", "administrator", "centre")
ROLES = (SECRETARY, TECHNICIAN, HEAD, ADMINISTRATOR, CENTRE)
STAFF = (SECRETARY, TECHNICIAN, HEAD, ADMINISTRATOR)   # the roles of people who log in to the panel

# C0 and C1 controls and DEL; lone surrogates (U+D800-U+DFFF) are checked apart.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate: not a character, and no encoder writes it out."""
    return bool(_SURROGATE.search(text))


def bad_characters(text: str, multiline: bool = False) -> bool:
    """Whether ``text`` holds a lone surrogate or a control character (line breaks and tabs
    are allowed in ``multiline`` text)."""
    return has_surrogate(text) or bool((_CONTROL_MULTILINE if multiline else _CONTROL).search(text))


def _kind(*codes: str) -> dict[str, str]:
    """A value's kind in three languages (the words of ``kind.text``, ``kind.integer``... joined by "or")."""
    words = [tx.texts(code) for code in codes]
    return {lang: tx.say("kind.or", {}, lang).join(w[lang] for w in words) for lang in tx.LANGS}


# --- argument declarations -------------------------------------------------------------------

class Arg:
    """One argument's rule: :meth:`refusal` says what is wrong with a value (None when fine),
    :meth:`schema` is the same rule as JSON Schema (for the contract and its document)."""

    kind: ClassVar[str] = ""                     # the catalogue's word for its JSON type (kind.text...)
    types: ClassVar[tuple[type, ...]] = ()       # the Python types of that JSON type
    description = ""

    def accepts(self, value) -> bool:
        """Whether ``value`` is of this argument's JSON type (bounds aside)."""
        return isinstance(value, self.types) and not isinstance(value, bool)

    def refusal(self, value, where: str) -> Refused | None:
        if not self.accepts(value):
            return Refused("refused.arg_type", field=where or "args", kind=_kind(self.kind))
        return self._out_of_bounds(value, where)

    def _out_of_bounds(self, value, where: str) -> Refused | None:
        return None

    def schema(self) -> dict:
        raise NotImplementedError

    @property
    def depth(self) -> int:
        return 0

    def _described(self, schema: dict) -> dict:
        return {**schema, "description": self.description} if self.description else schema


@dataclass(frozen=True)
class Text(Arg):
    max_len: int
    min_len: int = 0
    pattern: re.Pattern | None = None
    multiline: bool = False
    description: str = ""
    kind, types = "kind.text", (str,)

    def _out_of_bounds(self, value, where):
        if bad_characters(value, self.multiline):
            return Refused("refused.arg_characters", field=where)
        if len(value) > self.max_len:
            return Refused("refused.arg_too_long", field=where, max=self.max_len)
        if self.min_len and not value.strip():
            return Refused("refused.arg_empty", field=where)
        if self.pattern is not None and not self.pattern.match(value):
            return Refused("refused.arg_format", field=where)
        return None

    def schema(self):
        s = {"type": "string", "minLength": self.min_len, "maxLength": self.max_len}
        if self.pattern is not None:
            s["pattern"] = self.pattern.pattern
        if self.multiline:
            s["x-multiline"] = True     # line breaks and tabs allowed
        return self._described(s)


@dataclass(frozen=True)
class Integer(Arg):
    minimum: int
    maximum: int
    description: str = ""
    kind: ClassVar[str] = "kind.integer"
    types: ClassVar[tuple[type, ...]] = (int,)

    def _out_of_bounds(self, value, where):
        if not self.minimum <= value <= self.maximum:    # NaN is in no bounds either
            return Refused("refused.arg_range", field=where, min=self.minimum, max=self.maximum)
        return None

    def schema(self):
        return self._described({"type": "integer", "minimum": self.minimum, "maximum": self.maximum})


@dataclass(frozen=True)
class Number(Integer):
    kind, types = "kind.number", (int, float)

    def schema(self):
        return {**super().schema(), "type": "number"}


@dataclass(frozen=True)
class Choice(Arg):
    values: tuple[str, ...]
    description: str = ""
    kind, types = "kind.text", (str,)

    def _out_of_bounds(self, value, where):
        if value not in self.values:
            return Refused("refused.arg_choice", field=where, choices=", ".join(self.values))
        return None

    def schema(self):
        return self._described({"enum": list(self.values)})


@dataclass(frozen=True)
class ListOf(Arg):
    item: Arg
    max_items: int
    description: str = ""
    kind, types = "kind.list", (list,)

    def _out_of_bounds(self, value, where):
        if len(value) > self.max_items:
            return Refused("refused.arg_too_many", field=where, max=self.max_items)
        return next(filter(None, (self.item.refusal(item, f"{where}[{i}]") for i, item in enumerate(value))), None)

    def schema(self):
        return self._described({"type": "array", "items": self.item.schema(), "maxItems": self.max_items})

    @property
    def depth(self) -> int:
        return 1 + self.item.depth


@dataclass(frozen=True)
class Obj(Arg):
    fields: dict[str, Arg] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    description: str = ""
    kind, types = "kind.object", (dict,)

    def _out_of_bounds(self, value, where):
        for key in value:
            if key not in self.fields:
                name = key if isinstance(key, str) and not bad_characters(key) else "?"
                return Refused("refused.arg_unknown", field=_join(where, name))
        for key in self.required:
            if key not in value:
                return Refused("refused.arg_missing", field=_join(where, key))
        return next(filter(None, (self.fields[k].refusal(v, _join(where, k)) for k, v in value.items())), None)

    def schema(self):
        return self._described({"type": "object", "properties": {k: a.schema() for k, a in self.fields.items()},
                                "required": list(self.required), "additionalProperties": False})

    @property
    def depth(self) -> int:
        return 1 + max((a.depth for a in self.fields.values()), default=0)


@dataclass(frozen=True)
class Either(Arg):
    """One of several kinds (``far_side``: an id, or the far side in full); the value's JSON
    type chooses which rule applies."""

    options: tuple[Arg, ...]
    description: str = ""

    def accepts(self, value) -> bool:
        return any(o.accepts(value) for o in self.options)

    def refusal(self, value, where):
        for option in self.options:
            if option.accepts(value):
                return option.refusal(value, where)
        return Refused("refused.arg_type", field=where, kind=_kind(*(o.kind for o in self.options)))

    def schema(self):
        return self._described({"anyOf": [o.schema() for o in self.options]})

    @property
    def depth(self) -> int:
        return max(o.depth for o in self.options)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


# --- the commands --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    name: str
    args: Obj
    handler: str                  # "room.<attribute path>" (Controller) or "lifecycle.<attribute path>"
    roles: tuple[str, ...]
    description: str
    mqtt: bool = True             # the centre may send it (a handler in Controller._handlers)
    panel: tuple[str, ...] = ()   # the panel's endpoints that run it

    @property
    def owner(self) -> str:
        return self.handler.split(".", 1)[0]

    def resolve(self, room):
        """The handler's method on a built room (``room.lifecycle`` for lifecycle handlers)."""
        target = room if self.owner == "room" else room.lifecycle
        for name in self.handler.split(".")[1:]:
            target = getattr(target, name)
        return target


def check(command: Command, args) -> None:
    """Raise :class:`Refused` naming the first argument of ``args`` that breaks ``command``'s declaration."""
    found = command.args.refusal(args, "")
    if found:
        raise found


def _hearing_id(description="the hearing's id, chosen by the centre (1-64 letters, digits, '.', '_', ':', '-')"):
    return Text(64, 1, HEARING_ID, description=description)


_VERSION = Integer(1, 2 ** 31 - 1, "raised by the centre on every change; the highest version wins")
_WHO = Text(80, 1, description="who did it (name and position)")
_FAR_SIDE = Obj({
    "id": Text(40, 1, FAR_SIDE_ID, description="far side id (1-40 lowercase letters, digits, '_', '-')"),
    "kind": Choice(FAR_SIDE_KINDS, "a court or a detention centre"),
    "name": Text(120, 1, description="its name, as people read it"),
    "number": Text(120, 1, NUMBER, description="what the codec dials: SIP/H.323 address, alias or E.164 number"),
}, ("id", "kind", "name", "number"))
_HEARING = Obj({
    "id": _hearing_id(),
    "version": _VERSION,
    "case_number": Text(64, 1, description="the case number"),
    "start": Either((Text(40, 1), Number(0, 2 ** 32)),
                    "when it starts: ISO 8601 with a UTC offset (e.g. 2025-03-10T05:00:00Z), or Unix time in seconds"),
    "duration_min": Number(5, 720, "minutes (default 60)"),
    "far_side": Either((_FAR_SIDE.fields["id"], _FAR_SIDE),
                       "a known far side's id, or a far side in full (added or changed)"),
    "roles": ListOf(Text(40, 1, description="a camera role with a preset, e.g. judge"), 16,
                    "the participants whose camera presets the hearing uses"),
}, ("id", "version", "case_number", "start", "far_side"))
_HEARING_REF = Obj({"hid": _hearing_id("the hearing (from the page's address)"), "who": _WHO}, ("hid",))
_DEVICE = Text(40, 1, description="the device id (from the page's address)")

_DECLARED = (
    # -- from the centre (MQTT), some also on the panel ---------------------------------------------
    Command("selftest.run", Obj({
        "trigger": Text(32, 1, re.compile(r"^[a-z0-9_.-]+$"), description="recorded with the run (default mqtt)")}),
        "room._cmd_selftest", (CENTRE, TECHNICIAN, SECRETARY),
        "run the room self-test now; the result follows as selftest.* events and readiness",
        panel=("panel.selftest",)),
    Command("status.send", Obj(), "room._cmd_status", (CENTRE,),
            "publish the full readiness document again now"),
    Command("hearing.create", _HEARING, "lifecycle.change_schedule", (CENTRE, SECRETARY, HEAD),
            "add a hearing to the room's schedule", panel=("hearings.create_hearing",)),
    Command("hearing.update", _HEARING, "lifecycle.change_schedule", (CENTRE, SECRETARY, HEAD),
            "change a scheduled hearing"),
    Command("hearing.cancel", Obj({"id": _hearing_id(), "version": _VERSION}, ("id", "version")),
            "lifecycle.change_schedule", (CENTRE, SECRETARY, HEAD), "cancel a scheduled hearing",
            panel=("hearings.cancel",)),
    Command("vks.suspend", Obj({"reason": Text(300, 1, description="why, as the room's readiness will say it"),
                                "by": Text(120, 1, description="optional: who suspended it, a name or a role "
                                                               "(e.g. \"Председатель суда Н. Омарова\"), as the "
                                                               "panel's banner will say it; default: the centre")},
                               ("reason",)),
            "room._cmd_suspend", (CENTRE,),
            "suspend VKS in this room (rule item 24); readiness becomes 'suspended'"),
    Command("vks.resume", Obj(), "room._cmd_resume", (CENTRE,), "resume VKS after a suspension"),
    Command("farside.set", _FAR_SIDE, "lifecycle.schedule.set_far_side", (CENTRE, HEAD, ADMINISTRATOR),
            "add or change a far side (court or detention centre) and its number for test calls"),
    Command("fault.mark", Obj({
        "alarm_id": Integer(1, MAX_INT, "the alarm (from alarm.raised)"),
        "mark": Choice(MARKS, "fixing, fixed or cannot_be_fixed"),
        "by": _WHO,
        "note": Text(2000, multiline=True, description="what was done"),
    }, ("alarm_id", "mark", "by")), "lifecycle.mark", (CENTRE, TECHNICIAN),
        "mark a raised fault: fixing, fixed or cannot_be_fixed (rule item 17), with who marked it",
        panel=("hearings.mark",)),

    # -- the panel's own actions -----------------------------------------------------------------------
    Command("hearing.connect", _HEARING_REF, "lifecycle.connect", (SECRETARY,),
            "connect the hearing's call to its far side", mqtt=False, panel=("hearings.connect",)),
    Command("hearing.reconnect", _HEARING_REF, "lifecycle.reconnect", (SECRETARY,),
            "reconnect the hearing's call after a technical break", mqtt=False, panel=("hearings.reconnect",)),
    Command("hearing.end", _HEARING_REF, "lifecycle.end", (SECRETARY,), "end the hearing's call", mqtt=False,
            panel=("hearings.end",)),
    Command("test_session.run", _HEARING_REF, "lifecycle.run_test_session", (TECHNICIAN,),
            "run a test session with the hearing's far side (rule item 13)", mqtt=False,
            panel=("hearings.run_test_session",)),
    Command("test_session.record", Obj({**_HEARING_REF.fields, "result": Choice(("passed", "failed")),
                                        "notes": Text(2000, multiline=True)}, ("hid", "result")),
            "lifecycle.record_test_session", (TECHNICIAN,), "record a test session held by other means",
            mqtt=False, panel=("hearings.record_test_session",)),
    Command("act.draw_up", Obj({**_HEARING_REF.fields, "reason": Text(2000, multiline=True,
                                                                      description="when no fault is recorded")},
                               ("hid",)),
            "lifecycle.draw_up_act", (SECRETARY, TECHNICIAN),
            "draw up the act on the absence of technical possibility (rule item 18)", mqtt=False,
            panel=("hearings.draw_up_act",)),
    Command("act.edit", Obj({"act_id": Integer(1, MAX_INT), "who": _WHO, "kk": Text(20000, multiline=True),
                             "ru": Text(20000, multiline=True)}, ("act_id",)),
            "lifecycle.acts.edit", (SECRETARY,), "change an act's text before it is printed", mqtt=False,
            panel=("hearings.act",)),
    Command("camera.move", Obj({"device_id": _DEVICE, "direction": Text(16, 1), "speed": Integer(1, 24)},
                               ("device_id", "direction")),
            "room.run_on", (TECHNICIAN, SECRETARY), "turn a camera a step", mqtt=False, panel=("camera.move",)),
    Command("camera.zoom", Obj({"device_id": _DEVICE, "direction": Text(16, 1)}, ("device_id", "direction")),
            "room.run_on", (TECHNICIAN, SECRETARY), "zoom a camera a step", mqtt=False, panel=("camera.zoom",)),
    Command("camera.recall", Obj({"device_id": _DEVICE, "role": Text(40, 1)}, ("device_id", "role")),
            "room.run_on", (TECHNICIAN, SECRETARY), "turn a camera to a participant's preset", mqtt=False,
            panel=("camera.recall",)),
    Command("camera.store", Obj({"device_id": _DEVICE, "role": Text(40, 1), "confirm": Choice(("yes",))},
                                ("device_id", "role")),
            "room.run_on", (TECHNICIAN,), "store a camera's view as a participant's preset (after confirming)",
            mqtt=False, panel=("camera.store",)),
    Command("video.reference", Obj({"dev_id": _DEVICE, "label": Text(120), "force": Choice(("1",))}, ("dev_id",)),
            "room.run_on", (TECHNICIAN,), "keep a camera's current picture as its preset's reference",
            mqtt=False, panel=("video.store_reference",)),
    Command("audio.mute", Obj({"device": _DEVICE, "channel": Text(40, 1), "muted": Choice(("0", "1"))},
                              ("device", "channel", "muted")),
            "room.run_on", (TECHNICIAN,), "mute or open a microphone", mqtt=False, panel=("audio.mute",)),
    Command("codec.test_call", Obj({"device": _DEVICE, "number": Text(120, 1, NUMBER)}, ("device",)),
            "room.run_on", (TECHNICIAN,), "place a test call from a codec", mqtt=False, panel=("codec.test_call",)),
    Command("codec.hangup", Obj({"device": _DEVICE}, ("device",)), "room.run_on", (TECHNICIAN,),
            "hang up a codec's call", mqtt=False, panel=("codec.hangup",)),
)

COMMANDS: dict[str, Command] = {c.name: c for c in _DECLARED}
MQTT_COMMANDS: dict[str, Command] = {c.name: c for c in _DECLARED if c.mqtt}
_BY_ENDPOINT = {endpoint: c for c in _DECLARED for endpoint in c.panel}


def for_endpoint(endpoint: str | None) -> Command | None:
    """The command a panel endpoint runs (None: the endpoint declares none)."""
    return _BY_ENDPOINT.get(endpoint or "")


def _sound() -> None:
    names = [c.name for c in _DECLARED]
    assert len(names) == len(set(names)), "a command is declared twice"
    endpoints = [e for c in _DECLARED for e in c.panel]
    assert len(endpoints) == len(set(endpoints)), "a panel endpoint runs two commands"
    for c in _DECLARED:
        assert c.roles and set(c.roles) <= set(ROLES), f"{c.name}: unknown role"
        assert c.owner in ("room", "lifecycle"), f"{c.name}: handler {c.handler} is neither room.* nor lifecycle.*"
        assert c.args.depth <= MAX_DEPTH, f"{c.name}: declared deeper than {MAX_DEPTH} levels"
        assert c.mqtt or c.panel, f"{c.name}: neither an MQTT command nor a panel action"


_sound()
