"""The hearing record (rule item 21) and the facts of the act (item 18), read from the room log.

Every step of the lifecycle is a row of ``room_log`` (written by :meth:`Parts.log`); the
record of a hearing is its rows of :data:`RECORD_KINDS`, exportable as CSV or JSON; the act's
facts are the faults recorded from a day before the hearing and every measure tried."""
from __future__ import annotations

import csv
import io
import json

from vksroom.controller import texts as tx
from vksroom.controller.lifecycle.base import Parts
from vksroom.controller.schedule import iso_utc

RECORD_KINDS = ("hearing.started", "connection.dialling", "connection.started", "connection.failed",
                "connection.ended", "break.recommended", "quality.restored", "reconnect.started",
                "reconnect.done", "quality.after_reconnect", "hearing.ended")
# the CSV's columns, each named by a sentence code
COLUMN_CODES = {"at_utc": "record.column.at_utc", "at_local": "record.column.at_local", "event": "record.column.event",
                "who": "record.column.who", "detail": "record.column.detail", "code": "record.column.code"}
MEASURES = ("first_aid.power_off", "first_aid.power_on", "first_aid.worked", "first_aid.failed",
            "connection.failed", "reconnect.started", "reconnect.done", "quality.after_reconnect", "selftest.repeat",
            "fault.marked")


class Record:
    def __init__(self, parts: Parts, life):
        self.p = parts
        self.life = life

    def ended(self, hid: str) -> bool:
        return bool(self.p.store.query("SELECT 1 FROM room_log WHERE hearing_id=? AND kind='hearing.ended'", (hid,)))

    def kinds(self, hid: str, *kinds: str) -> list[str]:
        marks = ",".join("?" * len(kinds))
        return [r["kind"] for r in self.p.store.query(
            f"SELECT kind FROM room_log WHERE hearing_id=? AND kind IN ({marks}) ORDER BY id", (hid, *kinds))]

    def rows(self, hid: str) -> list[dict]:
        rows = self.p.store.query(
            f"SELECT at, kind, who, detail FROM room_log WHERE hearing_id=? AND kind IN "
            f"({','.join('?' * len(RECORD_KINDS))}) ORDER BY id", (hid, *RECORD_KINDS))
        local = self.life.schedule.local
        out = [{"at": iso_utc(r["at"]), "local": f"{local(r['at']):%Y-%m-%d %H:%M:%S}",
                "event": r["kind"], "who": r["who"], "detail": json.loads(r["detail"])} for r in rows]
        return [{**r, "said": said(r["event"], r["detail"])} for r in out]

    def export(self, hid: str, fmt: str = "json", lang: str | None = None) -> str:
        """JSON for programs (the codes); CSV for people, in ``lang``: translated column names
        and each row's sentence, its code kept in the last column."""
        h = self.life.hearing(hid, allow_cancelled=True)
        rows = self.rows(hid)
        if fmt == "json":
            return json.dumps({"hearing": h.to_dict(), "court_id": self.p.cfg.court_id,
                               "courtroom": self.p.cfg.courtroom, "record": rows}, ensure_ascii=False, indent=1)
        if fmt == "csv":
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow([tx.say(code, {}, lang) for code in COLUMN_CODES.values()])
            for r in rows:
                who = tx.pick(tx.person(r["who"]), lang or tx.DEFAULT_LANG)
                w.writerow([r["at"], r["local"], tx.say(r["said"], {}, lang), who,
                            json.dumps(r["detail"], ensure_ascii=False), r["event"]])
            return out.getvalue()
        raise ValueError(f"format must be csv or json, got {fmt!r}")

    def entries(self, limit: int = 50, device: str | None = None) -> list[dict]:
        if device:
            return self.p.store.query("SELECT * FROM room_log WHERE device=? ORDER BY id DESC LIMIT ?",
                                      (device, limit))
        return self.p.store.query("SELECT * FROM room_log ORDER BY id DESC LIMIT ?", (limit,))

    def facts(self, hid: str, other_reason: str = "") -> dict:
        """What happened, for the act on the absence of technical possibility: the faults recorded
        from a day before the hearing (when seen, cleared and marked), every measure tried and by
        whom, and the delay. Codes and parameters only: the act's text is made from them in each
        language."""
        h = self.life.hearing(hid, allow_cancelled=True)
        since = h.start - self.p.settings.warn_before_s
        local = self.life.schedule.local

        def at(t):
            return f"{local(t):%d.%m.%Y %H:%M}" if t else None

        def hm(t):
            return f"{local(t):%H:%M}" if t else None

        alarms = [a for a in self.life.incidents.alarms(open_only=False) if a["level"] == "fault" and
                  (a["hearing_id"] == hid or (a["device"] and a["raised_at"] >= since
                                              and (a["closed_at"] is None or a["closed_at"] >= since)))]
        marks: dict[int, list[dict]] = {}      # alarm id -> its marks
        tried: list[dict] = []
        for t in self.p.store.query(
                f"SELECT at, kind, device, who, detail FROM room_log WHERE (hearing_id=? OR (hearing_id IS NULL "
                f"AND at>=?)) AND kind IN ({','.join('?' * len(MEASURES))}) ORDER BY id", (hid, since, *MEASURES)):
            detail = json.loads(t["detail"])
            if t["kind"] == "fault.marked":
                marks.setdefault(detail.get("alarm"), []).append(
                    {"mark": detail.get("mark"), "by": t["who"], "at_local": at(t["at"])})
            tried.append({"at_local": at(t["at"]), "action": said(t["kind"], detail), "device": t["device"],
                          "device_label": self.p.label(t["device"]), "who": t["who"],
                          "params": {k: detail[k] for k in ("mark", "off_s", "waited_s") if k in detail},
                          **_quality_of(detail)})
        connected = self.p.store.query("SELECT MIN(at) AS at FROM room_log WHERE hearing_id=? AND "
                                       "kind='connection.started'", (hid,))[0]["at"]
        now = self.p.clock.now()
        delay = None       # a connection within the start's minute is on time, not a delay of 0 min
        if (connected is None and now > h.start) or (connected and connected - h.start >= 60):
            delay = {"planned_local": at(h.start), "until_local": at(connected),
                     "minutes": round(((connected or now) - h.start) / 60)}

        def cleared(a):
            return a["closed_at"] if a["state"] in ("recovered", "fixed", "cleared") else None

        def during(a):   # the fault came while the hearing was under way (a technical break)
            return connected is not None and a["raised_at"] >= connected
        # Technical breaks: the spans of faults that came during the hearing and cleared, merged.
        spans: list[list[float]] = []
        for a0, a1 in sorted((a["raised_at"], cleared(a)) for a in alarms if during(a) and cleared(a)):
            if spans and a0 <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], a1)
            else:
                spans.append([a0, a1])
        open_since = [max(a["raised_at"], connected) for a in alarms if connected and not cleared(a)]
        cfg = self.p.cfg
        return {
            "court": cfg.court_name, "court_id": cfg.court_id, "courtroom": cfg.courtroom,
            "case_number": h.case_number, "hearing_id": hid, "start_local": at(h.start), "timezone": cfg.timezone,
            "far_side": h.far_side.to_dict(),
            "failures": [{"device": a["device"], "device_label": self.p.label(a["device"]), "code": a["code"],
                          "params": a["params"], "first_seen_local": at(a["raised_at"]),
                          "cleared_local": at(cleared(a)), "during": during(a), "state": a["state"],
                          "marks": marks.get(a["id"], [])} for a in alarms],
            "started_time": hm(connected),
            "breaks": [{"from": hm(a0), "until": hm(a1), "minutes": max(1, round((a1 - a0) / 60))}
                       for a0, a1 in spans],
            "stopped_since": hm(min(open_since)) if open_since else None,
            "tried": tried,
            "delay": delay,
            "other_reason": other_reason.strip(),
            "technician": next((a["marked_by"] for a in alarms if a["state"] == "cannot_be_fixed"), ""),
            "drawn_up_local": at(now),
        }


def said(kind: str, detail: dict) -> str:
    """The code of what a row of the room log says: its kind, but a call the codec could not even
    start is no far side that did not answer."""
    if kind == "connection.failed" and detail.get("state") == "dial_failed":
        return "connection.not_placed"
    return kind


def _quality_of(detail: dict) -> dict:
    """The call figures a measure's row kept (before a reconnect, after it), for the act to quote."""
    q = detail.get("quality")
    if q is None and detail.get("quality_before"):
        q = next(iter(detail["quality_before"].values()), None)
    return {"quality": {k: q.get(k) for k in ("rx_loss_pct", "jitter_ms", "rx_fps")}} if q else {}
