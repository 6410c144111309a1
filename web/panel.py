"""The room page: the room's state, each device's state and reason, "Run self-test"."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from vksroom.web import i18n, live, security

NAV = ("nav.room", "panel.room")
bp = Blueprint("panel", __name__)


def _controller():
    return current_app.config["CONTROLLER"]


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def device_reasons(device: dict, lang: str) -> list[str]:
    return [i18n.reason_text(c, lang) for c in device["checks"] if not c["ok"]]


def device_details(device: dict) -> list[str]:
    """The technical detail of a device's failed checks, for the logged-in technician only."""
    if not i18n.may_see_detail():
        return []
    return [c["detail"] for c in device["checks"] if not c["ok"] and c.get("detail")]


def _public(data: dict) -> dict:
    """The readiness document as the page may show it: detail only to the logged-in user."""
    if i18n.may_see_detail():
        return data
    for d in data["devices"].values():
        d["checks"] = [{**c, "detail": ""} for c in d["checks"]]
    return data


@bp.get("/")
def room():
    controller = _controller()
    lang = i18n.current_language(current_app.config["LANGUAGE"])
    readiness = controller.readiness()
    runs = controller.store.runs(1)
    return render_template("room.html", r=_public(readiness.to_dict()), reasons=readiness.reason_lines(lang),
                           court_name=controller.cfg.court_name, last_run=runs[0] if runs else None,
                           details=device_details, selftest=live.selftest_view(controller, lang),
                           next_hearing=_next_hearing(controller, lang))


def _next_hearing(controller, lang: str) -> dict | None:
    """The next hearing and its guide (the room page says "ready for the 10:00 hearing")."""
    from vksroom.web.hearings import guide_view

    life = getattr(controller, "lifecycle", None)
    hid = (life.planner.on or life.planner.next_hearing_id()) if life is not None else None
    h = life.schedule.get(hid) if hid else None
    return {"h": h, "guide": guide_view(h, lang)} if h else None


@bp.get("/api/readiness")
def api_readiness():
    lang = i18n.current_language(current_app.config["LANGUAGE"])
    readiness = _controller().readiness()
    data = _public(readiness.to_dict())
    # The page shows translated labels; send them so the script need not know the catalogue.
    data["labels"] = {
        "state": i18n.translate(f"state.{data['state']}", lang),
        "reasons": readiness.reason_lines(lang),
        "devices": {
            dev_id: {
                "label": i18n.label(d["label_text"], lang),
                "health": i18n.translate(f"health.{d['health']}", lang),
                "reasons": device_reasons(d, lang),
                "details": device_details(d),
            }
            for dev_id, d in data["devices"].items()
        },
    }
    return jsonify(data)


@bp.post("/selftest")
def selftest():
    lang = i18n.current_language(current_app.config["LANGUAGE"])
    try:
        run_id = _controller().run_selftest("panel")
    except ValueError:
        readiness = _controller().readiness()
        why = readiness.reason_lines(lang)[0] if readiness.suspended else i18n.translate("room.testing", lang)
        message = i18n.translate("room.busy", lang, reason=why)
        if _wants_json():
            return jsonify({"error": message}), 409
        return render_template("message.html", message=message), 409
    if _wants_json():
        return jsonify({"run_id": run_id}), 202
    return redirect(url_for("panel.room"), code=303)


@bp.get("/lang/<code>")
def set_language(code: str):
    if code not in i18n.LANGUAGES:   # said in the reader's current language, like the panel's other refusals
        return security.refuse("language.unknown", 400)
    response = redirect(security.back(url_for("panel.room")), code=303)
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure)
    return response
