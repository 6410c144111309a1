"""A page per camera: the camera's state, an arrow pad with speed, zoom, role preset
buttons, and storing a role's preset behind a confirmation.

Every action runs through ``controller.run_on(device_id, ...)`` (so it holds the
device's lock against the poll and the self-test); refused input and camera errors are said
in the reader's language and change nothing. A form's action answers with a redirect back to
the camera page (POST-redirect-GET), its result a flash message there: the page keeps its
live refresh and a reload does not move the camera again. ``Accept: application/json`` gets
the page's JSON at once. Register ``bp``; its words are in translations/*.po.
"""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, get_flashed_messages, jsonify, redirect, render_template,
                   request, url_for)

from vksroom.drivers.errors import ConfigError, DeviceError
from vksroom.web import i18n, video

bp = Blueprint("camera", __name__)
NAV = ("nav.cameras", "camera.index")

ROLES = ("judge", "prosecutor", "defence", "defendant", "witness", "wide")
ACTION_TIMEOUT = 20.0
SPEED_LEVELS = 10      # the arrow pad's speed slider: level n of 10 is speed n/10 of the camera's fastest
DEFAULT_LEVEL = 3


def _controller():
    return current_app.config["CONTROLLER"]


def _adapter(device_id: str):
    try:
        adapter = _controller().adapter(device_id)
    except KeyError:
        abort(404)
    if getattr(adapter, "kind", "") != "camera":
        abort(404)
    return adapter


def _lang() -> str:
    return i18n.current_language(current_app.config.get("LANGUAGE", "ru"))


def _t(key: str, **params) -> str:
    return i18n.translate(key, _lang(), **params)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def _run(device_id: str, fn):
    """``fn(adapter)`` under the device's lock -> (result, None) or (None, error): the error a
    sentence naming the camera by its label, with the technical detail for the technician."""
    try:
        return _controller().run_on(device_id, fn, timeout=ACTION_TIMEOUT), None
    except (ConfigError, DeviceError, TimeoutError) as exc:
        return None, i18n.command_error(exc, _adapter(device_id).label, _lang(), ACTION_TIMEOUT)


def _page(device_id: str, message: str = "", error: dict | None = None, confirm: str | None = None,
          status: int = 200, role: str | None = None):
    adapter = _adapter(device_id)
    for kind, text in get_flashed_messages(with_categories=True):   # what the action redirected here said
        if kind == "ok":
            message = message or text
        elif kind == "fault":
            error = error or {"error": text}
        elif kind == "detail" and error is not None:
            error = {**error, "detail": text}
    role = role or request.args.get("preset") or next(iter(adapter.roles), "1")
    picture = video.camera_picture(device_id, role, adapter.roles, _lang())   # None: no video URL
    state, state_error = _run(device_id, lambda a: a.state())
    error = error or state_error
    level = request.values.get("speed", type=int) or DEFAULT_LEVEL
    if _wants_json():
        body = {"device": device_id, "state": state, "roles": adapter.roles, "message": message,
                "error": error["error"] if error else "", **({"detail": error["detail"]} if error and
                                                             "detail" in error else {})}
        return jsonify(body), (status if not error or status != 200 else 409)
    return render_template(
        "camera.html", device_id=device_id, label=i18n.label(adapter.label, _lang()), state=state,
        roles=adapter.roles, message=message, error=error, confirm=confirm,
        speed=max(1, min(level, SPEED_LEVELS)), speed_max=SPEED_LEVELS, picture=picture), status


@bp.get("/cameras")
def index():
    controller = _controller()
    cameras = []
    for dev_id in controller.device_ids():
        adapter = controller.adapter(dev_id)
        if getattr(adapter, "kind", "") == "camera":
            cameras.append((dev_id, i18n.label(adapter.label, _lang())))
    if len(cameras) == 1:
        return redirect(url_for("camera.page", device_id=cameras[0][0]))
    return render_template("cameras.html", cameras=cameras)


@bp.get("/camera/<device_id>")
def page(device_id):
    return _page(device_id)


def _done(device_id: str, error: dict | None = None, message: str = "", role: str | None = None):
    """An action's answer: JSON at once; for a form, back to the camera page with the result
    as a flash message (the speed slider and the recalled role's picture kept in its URL)."""
    if _wants_json():
        return _page(device_id, message=message, error=error, status=400 if error else 200, role=role)
    if error:
        flash(error["error"], "fault")
        if "detail" in error:
            flash(error["detail"], "detail")
    elif message:
        flash(message, "ok")
    level = request.values.get("speed", type=int)
    back = {k: v for k, v in (("preset", role), ("speed", level if level and 1 <= level <= SPEED_LEVELS else None))
            if v is not None}
    return redirect(url_for("camera.page", device_id=device_id, **back), code=303)


@bp.post("/camera/<device_id>/move")
def move(device_id):
    direction = request.values.get("direction", "")
    level = request.values.get("speed", type=int)     # 1..SPEED_LEVELS; the adapter refuses the rest
    speed = None if level is None else level / SPEED_LEVELS
    _, error = _run(device_id, lambda a: a.nudge(direction, speed))
    return _done(device_id, error)


@bp.post("/camera/<device_id>/zoom")
def zoom(device_id):
    direction = request.values.get("direction", "")
    _, error = _run(device_id, lambda a: a.zoom_step(direction))
    return _done(device_id, error)


@bp.post("/camera/<device_id>/recall/<role>")
def recall(device_id, role):
    _, error = _run(device_id, lambda a: a.recall_role(role))
    if error:
        return _done(device_id, error)
    return _done(device_id, message=_t("camera.recalled", role=i18n.role_name(role, _lang())), role=role)


@bp.route("/camera/<device_id>/store/<role>", methods=["GET", "POST"])
def store(device_id, role):
    adapter = _adapter(device_id)
    if role not in adapter.roles:
        error = i18n.command_error(ConfigError(f"no preset for role {role!r}"), adapter.label, _lang())
        return _page(device_id, error=error, status=400) if request.method == "GET" else _done(device_id, error)
    if request.method == "GET" or request.values.get("confirm") != "yes":
        return _page(device_id, confirm=role)      # nothing is stored without the second press
    _, error = _run(device_id, lambda a: a.store_role(role))
    if error:
        return _done(device_id, error)
    return _done(device_id, message=_t("camera.stored", role=i18n.role_name(role, _lang())), role=role)
