"""Hearings on the panel: the schedule and its entry form, test sessions, fault marks, the
act (edit, PDF), the hearing record (CSV/JSON), the alarm banner and "reconnect".

Everything goes through ``controller.lifecycle``; refused input comes back on the page
with the reasons, and changes nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from vksroom.controller import guide as day_guide
from vksroom.controller import protocol_mark
from vksroom.controller import texts as tx
from vksroom.controller.acts import ActError
from vksroom.controller.schedule import ScheduleError
from vksroom.web import i18n, live, security

NAV = ("nav.hearings", "hearings.hearings")


def _who() -> str:
    """Who acts: the logged-in panel user (rule items 5-6) by the name people read (``display``
    in ``[panel] users``, else the login), never a name typed on a form; with no users
    configured, the panel itself (:data:`texts.PANEL`, as web/auth.py names it; said as words)."""
    from flask import g, session

    return getattr(g, "display", None) or getattr(g, "user", None) or session.get("user") or tx.PANEL


log = logging.getLogger(__name__)
bp = Blueprint("hearings", __name__)


def _life():
    return current_app.config["CONTROLLER"].lifecycle


def _lang() -> str:
    return i18n.current_language(current_app.config["LANGUAGE"])


def alarm_text(alarm: dict, lang: str) -> str:
    """An alarm's sentence from its code and parameters (its English ``message`` is for the log)."""
    return tx.say_where(alarm.get("code") or "", alarm.get("params") or {}, lang)


def alarm_detail(alarm: dict) -> str:
    """What the technician may open under an alarm: its detail, else its evidence, as text."""
    if alarm.get("detail"):
        return str(alarm["detail"])
    evidence = alarm.get("evidence") or {}
    return json.dumps(evidence, ensure_ascii=False, indent=1, default=str) if evidence else ""


@bp.app_context_processor
def _alarm_banner():
    """Open alarms and break recommendations for every page (see _alarms.html)."""
    controller = current_app.config.get("CONTROLLER")
    life = getattr(controller, "lifecycle", None)
    if life is None:
        return {}
    on = life.on_hearing()
    suspended = day_guide.suspension(life, controller.readiness())
    return {"open_alarms": life.alarms(), "alarm_text": alarm_text, "on_hearing": on,
            "person": lambda who: tx.pick(tx.person(who), _lang()),     # who acted: a name, or the panel in words
            "suspension": tx.say(suspended["code"], suspended["params"], _lang()) if suspended else "",
            "alarm_detail": alarm_detail if i18n.may_see_detail() else (lambda a: ""),
            "break_now": life.break_recommended(on) if on else None}


def _refusal(exc: Exception) -> str:
    """What the panel says of a refused action: the refusal's sentence, never an exception's text."""
    if isinstance(exc, tx.Refused):
        return exc.say(_lang())
    log.info("panel: action refused: %s", exc)
    return tx.say("refused.failed", {}, _lang())


def _fail(message, code=400, **page):
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"error": message}), code
    return render_template("message.html", message=message), code


def guide_view(h, lang: str) -> dict:
    """The hearing day guide of ``h`` as the page shows it: the status sentence, who acts, the
    timeline with each step's moment in words (see controller/guide.py)."""
    life = _life()
    gd = day_guide.for_hearing(life, h)
    now, tz = life.clock.now(), life.schedule.tz
    steps = [{**s.to_dict(), "text": tx.say(day_guide.STEP_CODES[s.key], {}, lang),
              "when": tx.pick(day_guide.when(s.at, now, tz), lang),
              "until_text": tx.pick(day_guide.when(s.until, now, tz), lang) if s.until else "",
              "state_text": tx.say(day_guide.STATE_CODES[s.state], {}, lang),
              "actor_text": tx.say(day_guide.ACTOR_CODES[s.actor], {}, lang) if s.actor else ""} for s in gd.steps]
    said = gd.to_dict(lang)
    return {**said, "steps": steps, "breach": gd.breach,
            "who": tx.say("guide.who", {"actor": said["actor_text"]}, lang) if gd.actor else ""}


def _schedule_page(errors=(), form=None, status=200):
    life, lang = _life(), _lang()
    now = life.clock.now()
    listed = life.schedule.hearings(since=now - 12 * 3600)
    cases = {h.id: h.case_number for h in listed}
    # a clash is said by the other hearing's case number, never its id (the centre's key)
    rows = [{"h": h, "local": life.schedule.local(h.start), "readiness": life.schedule.readiness_for(h.id),
             "session": life.ledger.passed(h.id), "guide": guide_view(h, lang),
             "clash": [cases.get(o) or getattr(life.schedule.get(o), "case_number", "—") for o in h.conflicts]}
            for h in listed]
    created = life.schedule.get(request.args.get("created", "")) if request.args.get("created") else None
    # the participants a hearing may name: every camera preset's role but the wide shot (no one)
    roles = [r for r in life.schedule.roles if r != "wide"]
    return render_template("hearings.html", rows=rows, far_sides=life.schedule.far_sides(), roles=roles,
                           errors=list(errors), form=form or {}, today=life.schedule.local(now),
                           created=guide_view(created, lang) if created else None), status


@bp.get("/hearings")
def hearings():
    return _schedule_page()


@bp.post("/hearings")
def create_hearing():
    life = _life()
    f = request.form
    start = None
    try:
        local = dt.datetime.strptime(f"{f.get('date', '')} {f.get('time', '')}", "%Y-%m-%d %H:%M")
        start = local.replace(tzinfo=life.schedule.tz).isoformat()
    except ValueError:
        pass        # the schedule says the start is missing, in words
    doc = {"id": f"p-{uuid.uuid4().hex[:12]}", "version": 1, "case_number": f.get("case_number", ""),
           "start": start, "far_side": f.get("far_side", ""), "roles": f.getlist("roles")}
    try:
        doc["duration_min"] = int(f.get("duration_min") or 60)
    except ValueError:
        doc["duration_min"] = -1    # out of bounds: the schedule says which durations it takes
    try:
        life.change_schedule("create", doc, "panel")
        # Back to the list, which warns at once when the new hearing already breaks a rule.
        return redirect(url_for("hearings.hearings", created=doc["id"]), code=303)
    except ScheduleError as exc:
        return _schedule_page(exc.sentences(_lang()), request.form, 400)


def _scheduled(hid):
    """The hearing of this page, or 404."""
    h = _life().schedule.get(hid)
    if h is None:
        abort(404)
    return h


@bp.get("/hearings/<hid>")
def hearing(hid):
    life, h = _life(), _scheduled(hid)
    return render_template("hearing.html", h=h, local=life.schedule.local(h.start), sessions=life.ledger.sessions(hid),
                           local_time=life.schedule.local,
                           readiness=life.schedule.readiness_for(hid), record=life.record(hid),
                           acts=life.acts.for_hearing(hid), connected=life.connected(hid),
                           on=life.on_hearing() == hid, brk=life.break_recommended(hid), guide=guide_view(h, _lang()),
                           work=live.hearing_work(life, h, _lang()))


def _act_on_hearing(hid, fn):
    try:
        fn()
    except ValueError as exc:
        return _fail(_refusal(exc), 409)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"ok": True}), 202
    return redirect(url_for("hearings.hearing", hid=hid), code=303)


def _confirmed(h, question: str, yes: str):
    """A destructive action takes a second press: the question page (GET, or a POST without
    ``confirm=yes``), then the action. No script needed."""
    if request.method == "POST" and request.form.get("confirm") == "yes":
        return None
    return render_template("confirm.html", h=h, question=question, yes=yes, action=request.path)


@bp.route("/hearings/<hid>/cancel", methods=["GET", "POST"])
def cancel(hid):
    life, h = _life(), _scheduled(hid)
    ask = _confirmed(h, "confirm.cancel", "confirm.cancel.yes")
    if ask is not None:
        return ask
    return _act_on_hearing(hid, lambda: life.change_schedule("cancel", {"id": hid, "version": h.version + 1}, "panel"))


@bp.post("/hearings/<hid>/test-session")
def run_test_session(hid):
    # Returns at once: the hearing page follows the session's steps (web/live.py).
    return _act_on_hearing(hid, lambda: _life().start_test_session(hid, _who()))


@bp.post("/hearings/<hid>/test-session/record")
def record_test_session(hid):
    f = request.form
    return _act_on_hearing(hid, lambda: _life().record_test_session(hid, _who(), f.get("result", ""),
                                                                    f.get("notes", "")))


@bp.post("/hearings/<hid>/connect")
def connect(hid):
    return _act_on_hearing(hid, lambda: _life().connect(hid, _who()))


@bp.post("/hearings/<hid>/reconnect")
def reconnect(hid):
    return _act_on_hearing(hid, lambda: _life().reconnect(hid, _who()))


@bp.route("/hearings/<hid>/end", methods=["GET", "POST"])
def end(hid):
    ask = _confirmed(_scheduled(hid), "confirm.end", "confirm.end.yes")
    if ask is not None:
        return ask
    return _act_on_hearing(hid, lambda: _life().end(hid, _who()))


@bp.post("/hearings/<hid>/act")
def draw_up_act(hid):
    return _act_on_hearing(hid, lambda: _life().draw_up_act(hid, _who(), request.form.get("reason", "")))


@bp.get("/hearings/<hid>/record.<fmt>")
def export_record(hid, fmt):
    if fmt not in ("csv", "json"):
        abort(404)
    try:
        body = _life().export_record(hid, fmt, _lang())
    except ValueError as exc:
        return _fail(_refusal(exc), 404)
    mime = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(body, mimetype=mime.split(";")[0], headers={
        "Content-Disposition": f"attachment; filename=hearing-{hid}.{fmt}", "Content-Type": mime})


@bp.get("/hearings/<hid>/protocol-mark")
def protocol_mark_page(hid):
    """The VKS-use mark for the hearing's protocol (item 21), in kk and ru, to print or copy."""
    _scheduled(hid)
    h = _life().hearing(hid, allow_cancelled=True)
    return render_template("protocol_mark.html", h=h, mark=protocol_mark.for_hearing(_life(), hid))


@bp.post("/alarms/<int:alarm_id>/mark")
def mark(alarm_id):
    f = request.form
    try:
        _life().mark(alarm_id, f.get("mark"), _who(), f.get("note", ""))
    except ValueError as exc:
        return _fail(_refusal(exc), 400)
    return redirect(security.back(url_for("hearings.hearings")), code=303)


@bp.get("/api/alarms")
def api_alarms():
    life, lang = _life(), _lang()
    hidden = ("message",) if i18n.may_see_detail() else ("message", "evidence")   # English, technical
    return jsonify([{**{k: v for k, v in a.items() if k not in hidden}, "text": alarm_text(a, lang)}
                    for a in life.alarms()])


@bp.route("/acts/<int:act_id>", methods=["GET", "POST"])
def act(act_id):
    life = _life()
    a = life.acts.get(act_id)
    if a is None:
        abort(404)
    errors, saved = [], False
    if request.method == "POST":
        try:
            a = life.acts.edit(act_id, {k: request.form[k] for k in ("kk", "ru") if k in request.form},
                               _who())
            saved = True
        except ActError as exc:
            log.info("act %s not changed: %s (%s)", act_id, exc, exc.detail)
            errors = [exc.say(_lang())]
    return render_template("act.html", a=a, errors=errors, saved=saved), (400 if errors else 200)


@bp.get("/acts/<int:act_id>.pdf")
def act_pdf(act_id):
    try:
        data = _life().acts.pdf(act_id)
    except ActError as exc:
        log.error("act %s: no PDF: %s (%s)", act_id, exc, exc.detail)
        return _fail(exc.say(_lang()), 404 if exc.code == "refused.no_act" else 500)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=act-{act_id}.pdf"})
