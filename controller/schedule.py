"""The courtroom's VKS hearings: what is planned, kept in SQLite, changed by versioned messages.

A hearing arrives from the central scheduler (over MQTT, as the commands
``hearing.create`` / ``hearing.update`` / ``hearing.cancel``) or is entered on the panel.
Every message names the hearing (``id``) and carries a ``version`` the centre raises on
each change. How conflicts resolve, deterministically whatever order messages arrive in:

* the highest version wins; an older or repeated version is answered ``stale`` (or
  ``unchanged`` when it is the same document again) and changes nothing;
* ``create`` and ``update`` both carry the whole hearing, so an update that overtakes its
  create simply creates it;
* a cancellation that arrives before its hearing leaves a tombstone at its version, so the
  late create (a lower version) is stale and the hearing stays cancelled; a later version
  after a cancellation brings the hearing back (the centre re-planned it);
* a hearing in the past is refused; an overlap is refused when typed on the panel (a person
  can correct it), but accepted and flagged as a conflict when sent by the centre, because
  refusing it could lose a hearing whose neighbour's move is still on its way;
* every message, applied or refused, is written to ``schedule_log`` as received.

Times are UTC epoch seconds inside; the panel shows the court's local time.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from dataclasses import asdict, dataclass, field

from vksroom.controller.store import Store
from vksroom.controller.texts import Refused, pick, role_label, say

HEARING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
FAR_SIDE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# What a codec can dial: SIP/H.323 URI, alias or E.164 number.
NUMBER = re.compile(r"^[A-Za-z0-9@._:+#*-]{1,120}$")
FAR_SIDE_KINDS = ("court", "detention")
DEFAULT_DURATION_MIN = 60
PAST_GRACE_S = 60.0        # a start less than this far in the past is still accepted (clock skew)


@dataclass(frozen=True)
class Problem:
    """One reason to refuse a schedule message: a sentence's code and parameters
    (controller/schedule_texts.py) and, for the log and ``detail``, the technical words
    (the field and the value sent)."""

    code: str
    params: dict
    detail: str


def _problem(problems: list, code: str, detail: str, **params) -> None:
    problems.append(Problem("schedule." + code, params, detail))


class ScheduleError(Refused):
    """A schedule message that was refused, with every problem (``problems``); people read
    :meth:`say` (each problem's sentence), the log and ``detail`` the technical words."""

    def __init__(self, problems: list[Problem], hearing_id: str | None = None):
        self.problems = list(problems)
        self.hearing_id = hearing_id
        first = self.problems[0]
        super().__init__(first.code, **first.params)
        self.args = ("; ".join(self.sentences("en")),)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    @property
    def detail(self) -> str:
        return "; ".join(p.detail for p in self.problems)

    def sentences(self, lang: str | None = None) -> list[str]:
        return [say(p.code, p.params, lang) for p in self.problems]

    def say(self, lang: str | None = None) -> str:
        return ". ".join(self.sentences(lang))


@dataclass(frozen=True)
class FarSide:
    id: str
    kind: str      # court | detention
    name: str
    number: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Hearing:
    id: str
    version: int
    case_number: str
    start: float                     # UTC epoch seconds
    duration_s: float
    far_side: FarSide
    roles: tuple[str, ...] = ()
    status: str = "scheduled"        # scheduled | cancelled
    source: str = "centre"
    conflicts: tuple[str, ...] = field(default=(), compare=False)   # ids of overlapping hearings

    @property
    def end(self) -> float:
        return self.start + self.duration_s

    def overlaps(self, other: "Hearing") -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict:
        return {
            "id": self.id, "version": self.version, "case_number": self.case_number,
            "start": iso_utc(self.start), "start_ts": self.start, "duration_min": round(self.duration_s / 60),
            "far_side": self.far_side.to_dict(), "roles": list(self.roles), "status": self.status,
            "source": self.source, "conflicts": list(self.conflicts),
        }


@dataclass(frozen=True)
class Change:
    """What a schedule message did: outcome is created | updated | cancelled | unchanged | stale."""

    outcome: str
    hearing_id: str
    version: int
    hearing: Hearing | None = None
    detail: str = ""
    conflicts: tuple[str, ...] = ()

    @property
    def applied(self) -> bool:
        return self.outcome in ("created", "updated", "cancelled")

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "id": self.hearing_id, "version": self.version, "detail": self.detail,
                "conflicts": list(self.conflicts), "hearing": self.hearing.to_dict() if self.hearing else None}


def iso_utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value, errors: list[Problem], key: str = "start") -> float | None:
    """An ISO 8601 time with an offset (``2025-03-10T05:00:00Z``) or epoch seconds."""
    if isinstance(value, bool):
        _problem(errors, "bad_start", f"{key}: must be an ISO 8601 time with an offset, not a boolean")
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        _problem(errors, "no_start", f"{key}: is required (ISO 8601 with an offset, e.g. 2025-03-10T05:00:00Z)")
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        _problem(errors, "bad_start", f"{key}: {value!r} is not an ISO 8601 time (e.g. 2025-03-10T05:00:00Z)")
        return None
    if when.tzinfo is None:
        _problem(errors, "start_no_zone", f"{key}: {value!r} has no UTC offset; send e.g. {value}Z or {value}+05:00")
        return None
    return when.timestamp()


class Schedule:
    """The hearings of this courtroom and the far sides they call. Thread-safe through the store."""

    def __init__(self, store: Store, clock, roles: tuple[str, ...] = (), timezone: str = "Asia/Almaty"):
        self.store = store
        self.clock = clock
        self.roles = tuple(roles)
        self.tz = zoneinfo.ZoneInfo(timezone)

    # -- far sides ------------------------------------------------------------------------

    def far_sides(self) -> dict[str, FarSide]:
        rows = self.store.query("SELECT id, kind, name, number FROM far_sides ORDER BY name")
        return {r["id"]: FarSide(**r) for r in rows}

    def set_far_side(self, doc) -> FarSide:
        errors: list[Problem] = []
        fs = self._far_side_from(doc, errors, require_full=True)
        if errors or fs is None:       # None comes with its error
            raise ScheduleError(errors)
        self._save_far_side(fs)
        return fs

    def _save_far_side(self, fs: FarSide) -> None:
        self.store.execute("INSERT INTO far_sides(id, kind, name, number, updated_at) VALUES (?,?,?,?,?) "
                           "ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, name=excluded.name, "
                           "number=excluded.number, updated_at=excluded.updated_at",
                           (fs.id, fs.kind, fs.name, fs.number, self.clock()))

    def _far_side_from(self, doc, errors: list[Problem], require_full: bool = False) -> FarSide | None:
        """A far side from a message: its id alone (must be known) or id, kind, name, number."""
        if isinstance(doc, str):
            doc = {"id": doc}
        if not isinstance(doc, dict):
            _problem(errors, "no_far_side", "far_side: must be an id or an object with id, kind, name, number")
            return None
        fs_id = doc.get("id")
        if not isinstance(fs_id, str) or not FAR_SIDE_ID.match(fs_id):
            _problem(errors, "no_far_side",
                     f"far_side.id: {fs_id!r} is not an id (1-40 lowercase letters, digits, '_' or '-')")
            return None
        known = self.far_sides().get(fs_id)
        given = {k: doc[k] for k in ("kind", "name", "number") if k in doc}
        if not given and not require_full:
            if known is None:
                names = ", ".join(self.far_sides()) or "none yet"
                _problem(errors, "far_side_unknown", f"far_side: unknown far side {fs_id!r} and no kind, name and "
                         f"number given to add it (known: {names})")
            return known
        merged = {**(known.to_dict() if known else {}), **given, "id": fs_id}
        before = len(errors)
        if merged.get("kind") not in FAR_SIDE_KINDS:
            _problem(errors, "far_side_kind",
                     f"far_side.kind: must be one of {', '.join(FAR_SIDE_KINDS)}, got {merged.get('kind')!r}")
        if not isinstance(merged.get("name"), str) or not merged["name"].strip():
            _problem(errors, "far_side_name", "far_side.name: is required")
        number = merged.get("number")
        if not isinstance(number, str) or not NUMBER.match(number.strip()):
            _problem(errors, "far_side_number", f"far_side.number: {number!r} is not a number the codec can dial "
                     "(SIP/H.323 address, alias or digits)")
        if len(errors) > before:
            return None
        return FarSide(fs_id, merged["kind"], merged["name"].strip(), merged["number"].strip())

    # -- reading --------------------------------------------------------------------------

    def get(self, hearing_id: str) -> Hearing | None:
        rows = self.store.query("SELECT * FROM hearings WHERE id=?", (hearing_id,))
        if not rows or not rows[0]["doc"]:
            return None
        hearing = self._from_row(rows[0])
        return self._with_conflicts([hearing], self._scheduled())[0]

    def hearings(self, include_cancelled: bool = False, since: float | None = None) -> list[Hearing]:
        rows = self.store.query("SELECT * FROM hearings WHERE doc != '' ORDER BY id")
        found = [self._from_row(r) for r in rows]
        scheduled = [h for h in found if h.status == "scheduled"]
        found = [h for h in found if include_cancelled or h.status == "scheduled"]
        if since is not None:
            found = [h for h in found if h.end >= since]
        return sorted(self._with_conflicts(found, scheduled), key=lambda h: (h.start, h.id))

    def _scheduled(self) -> list[Hearing]:
        rows = self.store.query("SELECT * FROM hearings WHERE status='scheduled' AND doc != ''")
        return [self._from_row(r) for r in rows]

    @staticmethod
    def _with_conflicts(hearings: list[Hearing], scheduled: list[Hearing]) -> list[Hearing]:
        out = []
        for h in hearings:
            clash = tuple(sorted(o.id for o in scheduled if o.id != h.id and h.status == "scheduled" and h.overlaps(o)))
            out.append(Hearing(**{**h.__dict__, "conflicts": clash}))
        return out

    @staticmethod
    def _from_row(row: dict) -> Hearing:
        d = json.loads(row["doc"])
        return Hearing(row["id"], row["version"], d["case_number"], d["start"], d["duration_s"],
                       FarSide(**d["far_side"]), tuple(d.get("roles", ())), row["status"], row["source"])

    def readiness_for(self, hearing_id: str) -> dict | None:
        rows = self.store.query("SELECT readiness FROM hearings WHERE id=?", (hearing_id,))
        return json.loads(rows[0]["readiness"]) if rows and rows[0]["readiness"] else None

    def set_readiness(self, hearing_id: str, readiness: dict) -> None:
        self.store.execute("UPDATE hearings SET readiness=? WHERE id=?",
                           (json.dumps(readiness, ensure_ascii=False), hearing_id))

    def forget_readiness(self, hearing_id: str) -> None:
        """The hearing moved: its self-test verdict no longer speaks for it."""
        self.store.execute("UPDATE hearings SET readiness=NULL WHERE id=?", (hearing_id,))

    def log(self, limit: int = 50) -> list[dict]:
        return self.store.query("SELECT * FROM schedule_log ORDER BY id DESC LIMIT ?", (limit,))

    def local(self, ts: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ts, self.tz)

    # -- changing -------------------------------------------------------------------------

    def create(self, doc, source: str = "centre") -> Change:
        return self._apply("create", doc, source)

    def update(self, doc, source: str = "centre") -> Change:
        return self._apply("update", doc, source)

    def cancel(self, doc, source: str = "centre") -> Change:
        return self._apply("cancel", doc, source)

    def _apply(self, action: str, doc, source: str) -> Change:
        try:
            change = self._decide(action, doc, source)
        except ScheduleError as exc:
            self._log(action, doc, source, "rejected", exc.detail, exc.hearing_id)
            raise
        self._log(action, doc, source, change.outcome, change.detail, change.hearing_id, change.version)
        return change

    def _log(self, action, doc, source, outcome, detail, hearing_id=None, version=None) -> None:
        try:
            raw = json.dumps(doc, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            raw = repr(doc)
        if version is None and isinstance(doc, dict) and isinstance(doc.get("version"), int):
            version = doc["version"]
        self.store.execute("INSERT INTO schedule_log(at, hearing_id, action, version, source, outcome, detail, doc) "
                           "VALUES (?,?,?,?,?,?,?,?)", (self.clock(), hearing_id, action, version, source, outcome,
                                                        detail, raw))

    def _decide(self, action: str, doc, source: str) -> Change:
        if not isinstance(doc, dict):
            raise ScheduleError([Problem("schedule.not_a_message", {},
                                         f"a {action} message must be an object, not {type(doc).__name__}")])
        hid, errors = doc.get("id"), list[Problem]()
        if not isinstance(hid, str) or not HEARING_ID.match(hid):
            _problem(errors, "bad_id",
                     f"id: {hid!r} is not a hearing id (1-64 letters, digits, '.', '_', ':' or '-')")
            hid = None
        version = doc.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            _problem(errors, "bad_version", f"version: must be a whole number from 1, got {version!r}")
        if errors or hid is None or not isinstance(version, int):   # either is an error above
            raise ScheduleError(errors, hid)
        rows = self.store.query("SELECT * FROM hearings WHERE id=?", (hid,))
        stored = rows[0] if rows else None
        if stored and version < stored["version"]:
            return Change("stale", hid, version, detail=f"version {version} is older than the applied "
                                                         f"version {stored['version']}; ignored")
        if action == "cancel":
            return self._cancel(hid, version, stored, source)
        hearing = self._validate(hid, version, doc, source, stored, errors)
        if stored and version == stored["version"]:
            same = stored["doc"] and self._from_row(stored) == hearing and stored["status"] == "scheduled"
            return Change("unchanged" if same else "stale", hid, version, self.get(hid) if same else None,
                          "already applied" if same else
                          f"version {version} was already applied with other content; send a higher version")
        others = [h for h in self._scheduled() if h.id != hid and h.overlaps(hearing)]
        if others and source == "panel":
            raise ScheduleError([self._overlap(o) for o in others], hid)
        self.store.execute(
            "INSERT INTO hearings(id, version, status, doc, source, updated_at) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET version=excluded.version, status=excluded.status, doc=excluded.doc, "
            "source=excluded.source, updated_at=excluded.updated_at",
            (hid, version, "scheduled", json.dumps(self._doc(hearing), ensure_ascii=False), source, self.clock()))
        if hearing.far_side.id not in self.far_sides():
            self._save_far_side(hearing.far_side)
        outcome = "created" if not stored or not stored["doc"] or stored["status"] == "cancelled" else "updated"
        detail = "; ".join(self._overlap(o).detail for o in others)
        return Change(outcome, hid, version, self.get(hid), detail, tuple(sorted(o.id for o in others)))

    def _cancel(self, hid: str, version: int, stored: dict | None, source: str) -> Change:
        if stored and version == stored["version"] and stored["status"] == "cancelled":
            return Change("unchanged", hid, version, detail="already cancelled")
        if stored and version == stored["version"]:
            return Change("stale", hid, version, detail=f"version {version} was already applied; "
                                                        "a cancellation needs a higher version")
        self.store.execute(
            "INSERT INTO hearings(id, version, status, doc, source, updated_at) VALUES (?,?,'cancelled','',?,?) "
            "ON CONFLICT(id) DO UPDATE SET version=excluded.version, status='cancelled', source=excluded.source, "
            "updated_at=excluded.updated_at", (hid, version, source, self.clock()))
        hearing = self._from_row({**stored, "version": version, "status": "cancelled", "source": source}) \
            if stored and stored["doc"] else None
        return Change("cancelled", hid, version, hearing,
                      "" if hearing else "cancelled before it arrived: a later create at or below this version "
                                         "will be ignored")

    def _validate(self, hid, version, doc, source, stored, errors) -> Hearing:
        case = doc.get("case_number")
        if not isinstance(case, str) or not case.strip() or len(case) > 64:
            _problem(errors, "no_case", "case_number: is required (up to 64 characters)")
        start = parse_time(doc.get("start"), errors)
        duration = doc.get("duration_min", DEFAULT_DURATION_MIN)
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not 5 <= duration <= 12 * 60:
            _problem(errors, "duration", f"duration_min: must be 5 to 720 minutes, got {duration!r}", min=5, max=720)
            duration = DEFAULT_DURATION_MIN
        far_side = self._far_side_from(doc.get("far_side"), errors)
        roles = doc.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            _problem(errors, "bad_roles", "roles: must be a list of participant roles")
            roles = []
        unknown = [r for r in roles if self.roles and r not in self.roles]
        if unknown:
            names = {lang: ", ".join(pick(role_label(r), lang) for r in unknown) for lang in ("kk", "ru", "en")}
            _problem(errors, "no_preset", f"roles: no camera preset for {', '.join(map(repr, unknown))} "
                     f"(presets exist for: {', '.join(self.roles)})", roles=names)
        if start is not None:
            now = self.clock()
            old_start = json.loads(stored["doc"])["start"] if stored and stored["doc"] else None
            if start < now - PAST_GRACE_S and start != old_start:
                when, today = self.local(start), self.local(now)
                _problem(errors, "past", f"start: {when:%Y-%m-%d %H:%M} (court time) is in the past "
                         f"(now {today:%Y-%m-%d %H:%M})", date=f"{when:%d.%m.%Y}", time=f"{when:%H:%M}",
                         now=f"{today:%H:%M}" if today.date() == when.date() else f"{today:%d.%m.%Y %H:%M}")
        unknown_keys = set(doc) - {"id", "version", "case_number", "start", "duration_min", "far_side", "roles"}
        if unknown_keys:
            _problem(errors, "unknown_fields", f"unknown keys: {', '.join(sorted(unknown_keys))}")
        if errors or start is None or far_side is None:              # None comes with its error
            raise ScheduleError(errors, hid)
        return Hearing(hid, version, case.strip(), start, float(duration) * 60, far_side, tuple(roles),
                       "scheduled", source)

    def _overlap(self, other: Hearing) -> Problem:
        start, end = self.local(other.start), self.local(other.end)
        return Problem("schedule.overlap", {"case": other.case_number, "date": f"{start:%d.%m.%Y}",
                                            "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
                       f"overlaps hearing {other.id} (case {other.case_number}, "
                       f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} court time)")

    @staticmethod
    def _doc(h: Hearing) -> dict:
        return {"case_number": h.case_number, "start": h.start, "duration_s": h.duration_s,
                "far_side": h.far_side.to_dict(), "roles": list(h.roles)}
