"""The protocol mark (rule item 21): the record of VKS use in a hearing, in Kazakh and Russian,
for the secretary to print or copy into the hearing's protocol: the far side, when the
connection began and ended, technical breaks and reconnections.

Built from the hearing record (:mod:`.lifecycle.record`, rows of ``room_log``) by
:func:`lines`, a pure function: each line is a code of :mod:`.texts` (``mark.*``) with its
parameters, said in any language by :func:`say`.
"""
from __future__ import annotations

from vksroom.controller import texts as tx

MARK_LANGS = ("kk", "ru")     # the protocol's languages


def _hhmm(row: dict) -> str:
    return row["local"][11:19]      # "YYYY-MM-DD HH:MM:SS" in court time: breaks may last seconds


def lines(h, rows: list[dict], court, courtroom: str, date: str) -> list[tuple[str, dict]]:
    """The mark of hearing ``h`` (on ``date``, dd.mm.yyyy) from its record ``rows`` (Record.rows:
    event, local, detail); ``court`` a name or a {kk, ru, en} table."""
    far = {"far_side": h.far_side.name, "number": h.far_side.number}
    out: list[tuple[str, dict]] = [("mark.heading", {}), ("mark.case", {"case": h.case_number, "date": date})]
    started = [r for r in rows if r["event"] == "connection.started"]
    if not started:
        out.append(("mark.not_used", {"far_side": h.far_side.name}))
    else:
        out.append(("mark.used", {**far, "court": court, "courtroom": courtroom}))
        out.append(("mark.connected", {"time": _hhmm(started[0])}))
    breaks = reconnects = 0
    ongoing = tx.texts("mark.open")
    for i, r in enumerate(rows):
        event, later = r["event"], rows[i + 1:]
        if event == "break.recommended":
            breaks += 1
            end = next((x for x in later if x["event"] in ("quality.restored", "reconnect.done", "hearing.ended")), None)
            out.append(("mark.break", {"start": _hhmm(r), "end": _hhmm(end) if end else ongoing}))
        elif event == "reconnect.started":
            reconnects += 1
            end = next((x for x in later if x["event"] in ("reconnect.done", "connection.failed")), None)
            out.append(("mark.reconnect", {"start": _hhmm(r), "end": _hhmm(end) if end else ongoing}))
        elif event == "connection.failed":
            out.append(("mark.failed", {"time": _hhmm(r)}))
    ended = [r for r in rows if r["event"] == "connection.ended" and r["detail"].get("reason") != "reconnect"]
    if started and ended:
        out.append(("mark.disconnected", {"time": _hhmm(ended[-1])}))
    if started:
        out.append(("mark.total", {"reconnects": reconnects, "breaks": breaks}))
    return out


def say(marks: list[tuple[str, dict]], lang: str) -> list[str]:
    return [tx.say(code, params, lang) for code, params in marks]


def for_hearing(life, hid: str) -> dict[str, list[str]]:
    """The mark of a hearing in each protocol language: {"kk": [lines], "ru": [lines]}."""
    h = life.hearing(hid, allow_cancelled=True)
    cfg = life.cfg
    marks = lines(h, life.record(hid), cfg.court_name, cfg.courtroom, f"{life.schedule.local(h.start):%d.%m.%Y}")
    return {lang: say(marks, lang) for lang in MARK_LANGS}
