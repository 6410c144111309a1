"""The MQTT contract between a courtroom and the central scheduler, as code.

Everything a room publishes or accepts is built and checked here; ``docs/mqtt-contract.md``
is generated from this module (``python -m vksroom.mqtt.contract --markdown``), so the
document and the wire can not drift apart.

Topics, under ``{prefix}/{court_id}/{courtroom}`` (the *room base*):

========================  ======  ========  =====================================================
topic                     QoS     retained  payload
========================  ======  ========  =====================================================
``.../lifecycle``         1       yes       :data:`LIFECYCLE_SCHEMA` (``lost`` is the Last Will)
``.../readiness``         1       yes       :data:`READINESS_SCHEMA`
``.../events/{kind}``     1       no        :data:`EVENT_SCHEMA` (unique ``id``; ``seq`` orders)
``.../commands``          1       no        :data:`COMMAND_SCHEMA` (scheduler -> room)
``.../replies``           1       no        :data:`REPLY_SCHEMA` (room -> scheduler)
========================  ======  ========  =====================================================

Every payload is a UTF-8 JSON object carrying ``schema_version`` (:data:`SCHEMA_VERSION`).
"""
from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from vksroom.controller import commands
from vksroom.controller.commands import MQTT_COMMANDS
from vksroom.controller.texts import say

SCHEMA_VERSION = 2          # 2: event topic levels without dots (events/selftest-started); payloads as in 1
COMMAND_VERSIONS = (1, 2)   # what the room takes from the centre: nothing a sender writes changed in 2
MAX_COMMAND_BYTES = 64 * 1024
# an oversize command up to this size is still read for its request id, to be refused under it
# (the room's own broker takes no packet over 128 KiB: firmware/mosquitto/vksroom.conf.template)
ID_READ_BYTES = 2 * MAX_COMMAND_BYTES

# --- lifecycle states (Homie-like) ---------------------------------------------------------
INIT = "init"                  # connected, subscribing and republishing
READY = "ready"                # connected and following the room
LOST = "lost"                  # set by the broker from the Last Will: the room vanished
DISCONNECTED = "disconnected"  # a planned stop
LIFECYCLE_STATES = (INIT, READY, LOST, DISCONNECTED)

ROOM_STATES = ("unknown", "ready", "degraded", "not_ready", "testing", "in_hearing", "suspended")

# Event kinds the scheduler can rely on; any other kind the controller announces is
# published too (consumers ignore kinds they do not know).
EVENT_KINDS = (
    "fault", "recovered", "selftest.started", "selftest.finished", "test_session.recorded",
    "test_session.missing", "act.created", "break.recommended", "alarm.raised", "alarm.cleared",
    "fault.marked", "first_aid", "hearing.created", "hearing.updated", "hearing.cancelled", "hearing.rejected",
    "hearing.conflict", "hearing.readiness", "hearing.started", "hearing.ended", "hearing.connection",
    "outbox.overflow", "call.quality", "break.withdrawn",
)

# The commands the centre may send, with their arguments, as controller/commands.py declares them.
COMMANDS = {name: c.description for name, c in MQTT_COMMANDS.items()}
ARGS_SCHEMAS = {name: c.args.schema() for name, c in MQTT_COMMANDS.items()}
MAX_DEPTH = commands.MAX_DEPTH        # levels of nesting a command may have, the envelope included
MAX_NUMBER = commands.MAX_INT         # the largest number (either sign) a command may carry
ACCEPTED, REJECTED = "accepted", "rejected"

_LEVEL = r"[A-Za-z0-9_-]+"
_KIND_BAD = re.compile(r"[^a-z0-9_-]")
REQUEST_ID = r"^[A-Za-z0-9_.:-]{1,64}$"


# --- topics --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Topics:
    """The topic names of one room."""

    prefix: str
    court_id: str
    courtroom: str

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.court_id}/{self.courtroom}"

    @property
    def lifecycle(self) -> str:
        return f"{self.base}/lifecycle"

    @property
    def readiness(self) -> str:
        return f"{self.base}/readiness"

    @property
    def commands(self) -> str:
        return f"{self.base}/commands"

    @property
    def replies(self) -> str:
        return f"{self.base}/replies"

    def event(self, kind: str) -> str:
        return f"{self.base}/events/{event_topic_level(kind)}"

    @property
    def status_request(self) -> str:
        return status_request_topic(self.prefix)


def status_request_topic(prefix: str) -> str:
    """The one topic every room listens to: the scheduler's "everyone send status"."""
    return f"{prefix}/broadcast/status-request"


def event_topic_level(kind: str) -> str:
    """An event kind as one topic level: lowercase letters, digits, '_' and '-', its dots made
    '-' (``selftest.started`` -> ``selftest-started``): RabbitMQ turns a dot in a topic level
    into a level separator, so no level carries one. The kind itself, dots and all, is in the
    payload's ``kind``."""
    return _KIND_BAD.sub("_", str(kind).lower().replace(".", "-"))[:64] or "unknown"


def event_topic_level_v1(kind: str) -> str:
    """The level schema_version 1 used (dots kept), for the document's table of old names."""
    return re.sub(r"[^a-z0-9_.-]", "_", str(kind).lower())[:64] or "unknown"


def parse_topic(prefix: str, topic: str) -> tuple[str, str, str] | None:
    """``(court_id, courtroom, rest)`` of a topic under ``prefix``, or None."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head):].split("/", 2)
    if len(parts) < 3:
        return None
    return parts[0], parts[1], parts[2]


# --- schemas (JSON Schema, draft 2020-12 subset) ---------------------------------------------

def _obj(properties: dict, required=(), extra: bool = True, title: str = "", description: str = "") -> dict:
    schema = {"type": "object", "properties": properties, "required": list(required),
              "additionalProperties": extra}
    if title:
        schema = {"title": title, **schema}
    if description:
        schema["description"] = description
    return schema


def _str(description: str = "", **kw) -> dict:
    return {"type": "string", **kw, **({"description": description} if description else {})}


def _num(description: str = "", nullable: bool = False) -> dict:
    s = {"type": ["number", "null"] if nullable else "number"}
    return {**s, "description": description} if description else s


_VERSION = {"const": SCHEMA_VERSION, "description": "contract version; a consumer rejects versions it does not know"}
_SENDER_VERSION = {"enum": list(COMMAND_VERSIONS),
                   "description": "contract version the sender speaks; the room takes 1 and 2 (they differ only in "
                                  "the room's event topics)"}
_ROOM = {"court_id": _str("court identifier (a topic level)", pattern=f"^{_LEVEL}$"),
         "courtroom": _str("courtroom identifier (a topic level)", pattern=f"^{_LEVEL}$")}
_SEQ = {"type": "integer", "minimum": 1,
        "description": "room-wide publish order from the room's outbox: increases with every readiness, event and reply"}

_TEXT = {"type": "object", "properties": {lang: {"type": "string"} for lang in ("kk", "ru", "en")},
         "description": "the same sentence in Kazakh, Russian and English; {} when there is none"}

CHECK_SCHEMA = _obj({
    "check": _str("check name, e.g. online, reachable, preset_judge, channel.judge (a key, not for people)"),
    "ok": {"type": "boolean"},
    "reason": _str("when failed: one sentence in the room's language (panel.language, default ru) made from code "
                   "and params, naming the device by its label; never an exception's text, a path or a URL; "
                   "empty when ok"),
    "text": _TEXT,
    "detail": _str("technical detail for the technician (the driver's error, the codec's own diagnostics "
                   "words...), any language; may be empty. Not for display to court staff"),
    "live": {"type": "boolean", "description": "true: kept by the device's poll (the online check), replaced on "
                                               "every poll transition; false: a self-test's finding"},
    "value": {"description": "the measured value(s) of the check (any JSON)"},
    "code": _str("machine code of the sentence (controller/texts.py), e.g. device.unreachable, camera.standby"),
    "params": {"type": "object", "description": "parameters of the sentence: labels (a string or {kk, ru, en}), "
                                                "numbers, far-end numbers"},
    "duration_s": _num("how long the check took"),
    "at": _num("when it was measured (Unix time, seconds)"),
}, required=("check", "ok", "reason", "at"))

DEVICE_SCHEMA = _obj({
    "id": _str("device id (a key, not for people)"), "kind": _str("camera, codec, dsp, ..."),
    "label": _str("the device's name for people, in the room's language"),
    "label_text": _TEXT,
    "required": {"type": "boolean", "description": "a required device failing makes the room not_ready"},
    "health": {"enum": ["ok", "fault", "unknown"]},
    "reason": _str("why the device is at fault, in the room's language: its label and the failed checks' "
                   "sentences in one line; empty when ok"),
    "text": _TEXT,
    "since": _num("since when the health holds"),
    "checks": {"type": "array", "items": CHECK_SCHEMA},
    "values": {"type": "object", "description": "what the device's last poll read (power, call state, mutes, "
                                                "levels, diagnostics...)"},
}, required=("id", "required", "health", "reason", "checks"))

LIFECYCLE_SCHEMA = _obj({
    "schema_version": _VERSION, **_ROOM,
    "state": {"enum": list(LIFECYCLE_STATES)},
    "at": _num("when the room published it; for 'lost' the time of the connection the Will belongs to"),
    "client_id": _str(),
}, required=("schema_version", "court_id", "courtroom", "state", "at"),
   title="lifecycle", description="retained; 'lost' is the Last Will, set by the broker")

CALL_QUALITY_SCHEMA = _obj({
    "hearing_id": _str(), "call_id": _str(),
    "rx_loss_pct": _num("packets lost on the way to the room, % of the codec's last interval", True),
    "tx_loss_pct": _num("packets lost on the way to the far side, %", True),
    "jitter_ms": _num("the worst received channel's jitter, ms", True),
    "rx_kbps": _num("received bit rate, kbit/s", True), "tx_kbps": _num("sent bit rate, kbit/s", True),
    "negotiated_kbps": _num("the call rate agreed, kbit/s", True),
    "rate_ratio": _num("received bit rate / negotiated", True),
    "rx_width": _num("received main video width, px", True), "rx_height": _num("...height, px", True),
    "rx_fps": _num("received main video frame rate", True),
    "rx_audio": {"type": ["boolean", "null"], "description": "an incoming audio channel carries packets"},
}, title="call_quality", description="one codec's call figures; null: the codec does not report it")

READINESS_SCHEMA = _obj({
    "schema_version": _VERSION, **_ROOM, "seq": _SEQ,
    "state": {"enum": list(ROOM_STATES)},
    "reasons": {"type": "array", "items": {"type": "string"},
                "description": "in the room's language: the suspension first when suspended, then one line per "
                               "failed device (its label, then the sentences of its failed checks)"},
    "measured_at": _num("when the verdict was measured (Unix time)"),
    "valid_until": _num("until when the verdict holds: at most 1.25 heartbeats after it was published; a consumer "
                        "treats the room as lost once it has passed", True),
    "heartbeat_s": _num("the room republishes its readiness this often (seconds)"),
    "activity": _str("what the room is doing: '', 'selftest', 'hearing'"),
    "verdict": {"enum": ["ready", "degraded", "not_ready", "unknown"],
                "description": "whether the devices are fit, whatever the room is doing: state says in_hearing or "
                               "testing, verdict still says not_ready when a required device fails (and reasons "
                               "and the device say why)"},
    "devices": {"type": "object", "additionalProperties": DEVICE_SCHEMA, "description": "by device id"},
    "call_quality": {"type": "object", "additionalProperties": CALL_QUALITY_SCHEMA,
                     "description": "during a hearing only, by codec id: the call's latest figures (sent at most "
                                    "every lifecycle.quality.publish_s, 30 s by default)"},
}, required=("schema_version", "court_id", "courtroom", "seq", "state", "reasons", "measured_at", "valid_until",
             "devices"),
   title="readiness", description="retained; with MQTT 5 it expires from the broker at valid_until")

EVENT_SCHEMA = _obj({
    "schema_version": _VERSION, **_ROOM, "seq": _SEQ,
    "id": _str("unique event id: consumers drop duplicates by it", minLength=1, maxLength=64),
    "kind": _str("fault, recovered, selftest.started, selftest.finished, test_session.recorded, act.created, "
                 "break.recommended, outbox.overflow, or a newer kind"),
    "ts": _num("when it happened in the room (Unix time)"),
    "data": {"type": "object", "description": "kind-specific facts"},
}, required=("schema_version", "court_id", "courtroom", "seq", "id", "kind", "ts", "data"),
   title="event", description="QoS 1, not retained; at least once, so drop duplicates by id")

COMMAND_SCHEMA = _obj({
    "schema_version": _SENDER_VERSION, **_ROOM,
    "request_id": _str("chosen by the sender; the reply carries it; a repeated id gets the first reply again",
                       pattern=REQUEST_ID),
    "command": {"enum": list(COMMANDS)},
    "args": {"type": "object", "description": "command arguments, checked by the room controller against the "
                                              "command's declaration (see each command's arguments)"},
    "expires_at": _num("optional: a command still undelivered after this time is rejected as expired", True),
}, required=("schema_version", "court_id", "courtroom", "request_id", "command"),
   title="command", description=f"QoS 1, at most {MAX_COMMAND_BYTES} bytes; the room answers on .../replies")

REPLY_SCHEMA = _obj({
    "schema_version": _VERSION, **_ROOM, "seq": _SEQ,
    "request_id": {"type": ["string", "null"], "description": "null when the command was too unreadable to tell"},
    "command": {"type": ["string", "null"]},
    "status": {"enum": [ACCEPTED, REJECTED]},
    "result": {"type": "object", "description": "when accepted: what the controller returned"},
    "reason": _str("when rejected: why, one sentence in the room's language for the people who read it"),
    "code": _str("optional, when the room refused it: machine code of the sentence (controller/texts.py, "
                 "refused.* or schedule.*), e.g. refused.no_hearing, schedule.overlap"),
    "detail": _str("optional: technical detail for the centre's staff (the field and the value refused); "
                   "not for display to court staff"),
    "at": _num(),
}, required=("schema_version", "court_id", "courtroom", "seq", "request_id", "status", "at"),
   title="reply", description="QoS 1, not retained")

STATUS_REQUEST = "status.request"
MAX_SPREAD_S = 30.0
STATUS_REQUEST_SCHEMA = _obj({
    "schema_version": _SENDER_VERSION,
    "command": {"const": STATUS_REQUEST},
    "request_id": _str("chosen by the scheduler, for its logs", pattern=REQUEST_ID),
    "at": _num("when the scheduler sent it; a room ignores one older than a minute (queued while it was away)"),
    "spread_s": {"type": "number", "minimum": 0, "maximum": MAX_SPREAD_S,
                 "description": "each room answers after a random pause of up to this many seconds (default 1)"},
}, required=("schema_version", "command", "at"),
   title="status_request", description="QoS 1 on {prefix}/broadcast/status-request, not retained: every room "
                                       "republishes its lifecycle and readiness (at most once per 5 s)")

SCHEMAS = {"lifecycle": LIFECYCLE_SCHEMA, "readiness": READINESS_SCHEMA, "event": EVENT_SCHEMA,
           "command": COMMAND_SCHEMA, "reply": REPLY_SCHEMA, "status_request": STATUS_REQUEST_SCHEMA}


def json_schema(name: str) -> dict:
    """The published JSON Schema document for payload ``name``."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:vksroom:mqtt:{name}:v{SCHEMA_VERSION}", **SCHEMAS[name]}


# --- a validator for the subset of JSON Schema used above -------------------------------------

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is_type(value, name: str) -> bool:
    if name in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return name == "number" or isinstance(value, int)
    return isinstance(value, _TYPES[name])


def errors(schema: dict, value: Any, path: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema``, each as ``"path: what is wrong"``."""
    where = path or "payload"
    if "const" in schema and value != schema["const"]:
        return [f"{where}: must be {schema['const']!r}, got {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: must be one of {', '.join(map(str, schema['enum']))}, got {value!r}"]
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, n) for n in names):
            return [f"{where}: must be {' or '.join(names)}, not {_json_type(value)}"]
    out = []
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", len(value)) or len(value) < schema.get("minLength", 0):
            out.append(f"{where}: length {len(value)} outside {schema.get('minLength', 0)}-{schema.get('maxLength')}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{where}: {value[:80]!r} does not match {schema['pattern']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < schema.get("minimum", value):
        out.append(f"{where}: must be >= {schema['minimum']}, got {value}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > schema.get("maximum", value):
        out.append(f"{where}: must be <= {schema['maximum']}, got {value}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += errors(schema["items"], item, f"{path}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                out.append(f"{_join(path, key)}: is required")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                out += errors(props[key], item, _join(path, key))
            elif extra is False:
                out.append(f"{_join(path, key)}: unknown field")
            elif isinstance(extra, dict):
                out += errors(extra, item, _join(path, key))
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number"}.get(type(value), "unknown")


def check(name: str, doc: Any) -> None:
    """Raise ValueError naming the first problem if ``doc`` is not a valid ``name`` payload."""
    problems = errors(SCHEMAS[name], doc)
    if problems:
        raise ValueError(problems[0])


# --- payload builders --------------------------------------------------------------------------

def encode(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def _room(topics: Topics) -> dict:
    return {"schema_version": SCHEMA_VERSION, "court_id": topics.court_id, "courtroom": topics.courtroom}


def lifecycle_doc(topics: Topics, state: str, client_id: str = "", at: float | None = None) -> dict:
    if state not in LIFECYCLE_STATES:
        raise ValueError(f"unknown lifecycle state {state!r}")
    return {**_room(topics), "state": state, "at": time.time() if at is None else at, "client_id": client_id}


HEARTBEAT_GRACE = 1.25  # a heartbeat's readiness holds this many heartbeats: lost within 1.5 with room for delay


def readiness_doc(topics: Topics, readiness: dict, heartbeat_s: float | None = None,
                  now: float | None = None) -> dict:
    """The retained readiness document from ``Readiness.to_dict()`` (``seq`` added by the outbox).

    With ``heartbeat_s`` (the room republishes it that often) ``valid_until`` is at most
    ``now + 1.25 x heartbeat_s``: a consumer that sees it pass treats the room as lost, at most
    1.25 heartbeats after the room died (0.25 left for the latency of noticing it)."""
    doc = {**readiness, **_room(topics)}
    doc.setdefault("reasons", [])
    doc.setdefault("valid_until", None)
    doc.setdefault("devices", {})
    if heartbeat_s:
        beat_ends = (time.time() if now is None else now) + HEARTBEAT_GRACE * heartbeat_s
        doc["valid_until"] = beat_ends if doc["valid_until"] is None else min(doc["valid_until"], beat_ends)
        doc["heartbeat_s"] = heartbeat_s
    return doc


def room_lost(readiness: dict | None, now: float | None = None) -> bool:
    """The consumer's rule: a room whose readiness's ``valid_until`` has passed is lost (its
    heartbeat stopped), whatever the broker kept or published for it."""
    until = (readiness or {}).get("valid_until")
    return isinstance(until, (int, float)) and until < (time.time() if now is None else now)


def event_doc(topics: Topics, kind: str, data: dict, id: str | None = None, ts: float | None = None) -> dict:
    return {**_room(topics), "id": id or uuid.uuid4().hex, "kind": kind,
            "ts": time.time() if ts is None else ts, "data": data if isinstance(data, dict) else {"value": data}}


def reply_doc(topics: Topics, request_id: str | None, command: str | None, result: dict | None = None,
              reason: str | None = None, code: str | None = None, detail: str = "") -> dict:
    doc = {**_room(topics), "request_id": request_id, "command": command, "at": time.time()}
    if reason is None:
        doc.update(status=ACCEPTED, result=result if isinstance(result, dict) else {"value": result})
    else:
        doc.update(status=REJECTED, reason=reason, **({"code": code} if code else {}),
                   **({"detail": detail} if detail else {}))
    return doc


def command_doc(topics: Topics, command: str, args: dict | None = None, request_id: str | None = None,
                expires_at: float | None = None) -> dict:
    """A command as the scheduler sends it (used by the fleet tools and the tests)."""
    doc = {**_room(topics), "request_id": request_id or uuid.uuid4().hex, "command": command, "args": args or {}}
    if expires_at is not None:
        doc["expires_at"] = expires_at
    return doc


def status_request_doc(spread_s: float = 1.0, request_id: str | None = None) -> dict:
    """The scheduler's "everyone send status" (mqtt/fleet.py sends it when it starts)."""
    return {"schema_version": SCHEMA_VERSION, "command": STATUS_REQUEST, "request_id": request_id or uuid.uuid4().hex,
            "at": time.time(), "spread_s": spread_s}


def read_status_request(payload: bytes, now: float | None = None) -> float | None:
    """The pause bound (``spread_s``) of a status request a room should answer, or None when
    it should not: unreadable, not this contract's, or older than a minute."""
    if len(payload) > 1024:
        return None
    env = read_envelope(payload)
    if env.problem or errors(STATUS_REQUEST_SCHEMA, env.doc):
        return None
    if env.doc["at"] < (time.time() if now is None else now) - 60:
        return None
    return float(env.doc.get("spread_s", 1.0))


# --- reading commands -----------------------------------------------------------------------------

class CommandRejected(ValueError):
    """A command the room will not run: ``reason``, the sentence of ``code`` in the room's
    language, goes on the reply topic with ``code``; ``detail`` (what exactly is wrong, in
    English: the field, the value) beside it and in the log."""

    def __init__(self, detail: str, request_id: str | None = None, command: str | None = None,
                 code: str = "refused.unreadable", **params):
        super().__init__(detail)
        self.detail, self.code = detail, code
        self.reason = say(code, params)
        self.request_id = request_id
        self.command = command


@dataclass(frozen=True)
class Command:
    request_id: str
    name: str
    args: dict
    doc: dict


@dataclass(frozen=True)
class Envelope:
    """What could be read of a command: the document (None when unreadable), its request id and
    command name (None unless well-formed), and the first reason to reject it (None: none yet)."""

    doc: dict | None
    request_id: str | None
    command: str | None
    problem: str | None


_TOKENS = re.compile(r'\\.|["\[\]{}]', re.S)
_TOO_LARGE = object()     # an integer literal too long to be a number any reader keeps


def _pruned(text: str, limit: int) -> tuple[str, bool]:
    """``text`` with every container nested deeper than ``limit`` levels replaced by ``null``,
    and whether there was one: the envelope of a too-deep command can still be read (and
    answered by its request id) without the parser recursing 20,000 levels."""
    depth, in_string, cut, last, parts, deep = 0, False, None, 0, [], False
    for m in _TOKENS.finditer(text):
        token = m.group()
        if in_string:
            in_string = token != '"'
        elif token == '"':
            in_string = True
        elif token in "[{":
            depth += 1
            if depth > limit and cut is None:
                cut, deep = m.start(), True
        elif token in "]}":
            if cut is not None and depth == limit + 1:
                parts += [text[last:cut], "null"]
                last, cut = m.end(), None
            depth -= 1
    if not deep:
        return text, False
    parts.append(text[last:] if cut is None else text[last:cut])
    return "".join(parts), True


def _int(literal: str):
    return int(literal) if len(literal) <= 20 else _TOO_LARGE


def _not_text_or_number(value, path: str = "") -> str | None:
    """The first string holding a lone surrogate, or number out of bounds, in ``value``."""
    if isinstance(value, str):
        return f"{path or 'payload'}: text with a lone surrogate (U+D800-U+DFFF), which is not a character" \
            if commands.has_surrogate(value) else None
    if value is _TOO_LARGE or (isinstance(value, (int, float)) and not isinstance(value, bool) and
                               not -MAX_NUMBER <= value <= MAX_NUMBER):   # NaN fails both comparisons too
        return f"{path or 'payload'}: the number is out of bounds (at most {MAX_NUMBER} either way)"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and commands.has_surrogate(key):
            return f"{_join(path, '?')}: a field name with a lone surrogate (U+D800-U+DFFF), which is not a character"
        found = _not_text_or_number(item, f"{path}[{key}]" if isinstance(key, int) else _join(path, key))
        if found:
            return found
    return None


def _shown(value, quoted: bool = True) -> str:
    """A value quoted in a reason, at most 80 characters: its repr, or (``quoted=False``) a
    plain string as it is when it holds no control character."""
    text = value if not quoted and isinstance(value, str) and not commands.bad_characters(value) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_envelope(payload: bytes) -> Envelope:
    """Read a command payload as far as it can be read, safely: never deeper than
    :data:`MAX_DEPTH`, never an unbounded number, never a string that cannot be written out
    again. Cheap enough for paho's thread (to answer a command the room has no room for). An
    oversize payload is refused, under its request id when it is at most :data:`ID_READ_BYTES`."""
    if len(payload) > MAX_COMMAND_BYTES:
        seen = _read_envelope(payload) if len(payload) <= ID_READ_BYTES else None
        return Envelope(None, seen and seen.request_id, seen and seen.command,
                        f"payload of {len(payload)} bytes exceeds the {MAX_COMMAND_BYTES}-byte limit")
    return _read_envelope(payload)


def _read_envelope(payload: bytes) -> Envelope:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return Envelope(None, None, None, "payload is not UTF-8 text")
    text, deep = _pruned(text, MAX_DEPTH)
    try:
        doc = json.loads(text, parse_int=_int, parse_constant=float)
    except json.JSONDecodeError as exc:
        return Envelope(None, None, None, f"payload is not valid JSON (it goes wrong at line {exc.lineno}, "
                                          f"column {exc.colno})")
    if not isinstance(doc, dict):
        return Envelope(None, None, None, f"payload must be a JSON object, not {_json_type(doc)}")
    rid = doc.get("request_id")
    rid = rid if isinstance(rid, str) and re.match(REQUEST_ID, rid) else None
    name = doc.get("command")
    name = name if name in COMMANDS else None
    problem = (f"nested deeper than {MAX_DEPTH} levels" if deep else None) or _not_text_or_number(doc)
    return Envelope(doc, rid, name, problem)


def parse_command(topics: Topics, payload: bytes, now: float | None = None) -> Command:
    """Check a command envelope addressed to the room ``topics`` names.

    Raises :class:`CommandRejected` with the reason (and whatever request id could be read).
    """
    env = read_envelope(payload)
    doc, rid, name = env.doc, env.request_id, env.command
    if env.problem:
        raise CommandRejected(env.problem, rid, name)
    if doc.get("schema_version") not in COMMAND_VERSIONS or isinstance(doc.get("schema_version"), bool):
        raise CommandRejected(f"unsupported schema_version {_shown(doc.get('schema_version'))} (this room takes "
                              f"{' and '.join(map(str, COMMAND_VERSIONS))})", rid, name, "refused.contract_version")
    if "court_id" in doc and "courtroom" in doc and (doc["court_id"], str(doc["courtroom"])) != (
            topics.court_id, topics.courtroom):
        raise CommandRejected(f"addressed to {_shown(doc['court_id'], False)}/{_shown(doc['courtroom'], False)}, this is "
                              f"{topics.court_id}/{topics.courtroom}", rid, name, "refused.other_room")
    if name is None and isinstance(doc.get("command"), str):
        raise CommandRejected(f"unknown command {_shown(doc['command'])} (known: {', '.join(COMMANDS)})", rid,
                              code="refused.unknown_command")
    problems = errors(COMMAND_SCHEMA, doc)
    if problems:
        raise CommandRejected(problems[0], rid, name)
    expires = doc.get("expires_at")
    if expires is not None and expires < (time.time() if now is None else now):
        raise CommandRejected(f"expired at {expires} before it reached the room", rid, name, "refused.expired")
    return Command(rid, name, doc.get("args", {}), doc)


# --- the document ---------------------------------------------------------------------------------

def markdown_event_topics() -> str:
    """The event topics of schema_version 2 beside the names they had in 1."""
    rows = [f"| `{kind}` | `…/events/{event_topic_level(kind)}` | `…/events/{event_topic_level_v1(kind)}` |"
            for kind in EVENT_KINDS]
    return "\n".join(["| `kind` (payload) | topic (schema_version 2) | topic until schema_version 1 |",
                      "|---|---|---|", *rows]) + "\n"


def markdown_schemas() -> str:
    """The schema section of docs/mqtt-contract.md."""
    parts = []
    for name in SCHEMAS:
        parts.append(f"### `{name}`\n\n```json\n{json.dumps(json_schema(name), indent=2, ensure_ascii=False)}\n```\n")
    parts.append(f"### `command` arguments, by command\n\n```json\n"
                 f"{json.dumps(ARGS_SCHEMAS, indent=2, ensure_ascii=False)}\n```\n")
    return "\n".join(parts)


def _rule(schema: dict) -> str:
    """An argument's kind and bounds in a few words, for the document."""
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_rule(s) for s in schema["anyOf"])
    kind = schema["type"]
    if kind == "string":
        length = (f"{schema['minLength']}–{schema['maxLength']}" if schema["minLength"]
                  else f"up to {schema['maxLength']}")
        return (f"{'multi-line ' if schema.get('x-multiline') else ''}text, {length} characters"
                + (f", matching `{schema['pattern']}`" if "pattern" in schema else ""))
    if kind in ("integer", "number"):
        return f"{'whole number' if kind == 'integer' else 'number'}, {schema['minimum']} to {schema['maximum']}"
    if kind == "array":
        return f"list of up to {schema['maxItems']}: {_rule(schema['items'])}"
    return "object with the fields below"


def _argument_rows(schema: dict, prefix: str = "") -> list[str]:
    rows = []
    for key, arg in schema["properties"].items():
        path = f"{prefix}{key}"
        required = "yes" if key in schema["required"] else "no"
        rule = _rule(arg).replace("|", "\\|")
        rows.append(f"| `{path}` | {required} | {rule} | {arg.get('description', '')} |")
        for option in arg.get("anyOf", [arg]):
            if option.get("type") == "object":
                rows += _argument_rows(option, f"{path}.")
    return rows


def markdown_commands() -> str:
    """The commands section of docs/mqtt-contract.md, from the declarations."""
    parts = ["Every command, its arguments and its roles come from `controller/commands.py`, the one "
             "declaration the room checks each command against before it runs. For every argument: text "
             "carries no control characters (line breaks and tabs only where the argument says multi-line) "
             "and no lone surrogates; numbers stay in their bounds; no field the command does not declare. "
             "A command breaking them is rejected with a `reason` naming the field (in the room's language), "
             "and nothing changes. Roles: who may run it (`centre` is the scheduler; the others are the "
             "panel's users, whose enforcement comes with the panel's roles).",
             "", "| command | effect | roles |", "|---|---|---|"]
    parts += [f"| `{c.name}` | {c.description} | {', '.join(c.roles)} |" for c in MQTT_COMMANDS.values()]
    for c in MQTT_COMMANDS.values():
        parts += ["", f"### `{c.name}`", "", c.description + "."]
        rows = _argument_rows(ARGS_SCHEMAS[c.name])
        parts += ["", "| argument | required | kind and bounds | meaning |", "|---|---|---|---|", *rows] if rows \
            else ["", "No arguments (`args` is `{}` or left out)."]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":  # python -m vksroom.mqtt.contract [--markdown | NAME]
    import sys

    arg = sys.argv[1] if len(sys.argv) > 1 else "--markdown"
    print(markdown_schemas() if arg == "--markdown" else json.dumps(json_schema(arg), indent=2, ensure_ascii=False))
