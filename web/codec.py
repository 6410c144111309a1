"""Panel page: the codec's call state, a "test call" button and hang up.

``GET /codec/`` the page; ``GET /codec/status.json`` each codec's last reported state
and the last test call (no device I/O); ``POST /codec/<device>/test_call`` (optional
``number``; default the configured far end) starts a test call in the background through
the controller and returns at once; ``POST /codec/<device>/hangup`` ends every call at
once, even during a test call.
"""
from __future__ import annotations

import threading
import time

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from vksroom.controller import texts as tx
from vksroom.drivers.errors import DeviceError
from vksroom.web import i18n

NAV = ("nav.codec", "codec.page")
bp = Blueprint("codec", __name__, url_prefix="/codec", template_folder="templates")


_tests: dict[str, dict] = {}        # device id -> last/ongoing test call, for the page
_tests_lock = threading.Lock()


def _controller():
    return current_app.config["CONTROLLER"]


def _codec_ids() -> list[str]:
    return [d.id for d in _controller().cfg.devices_of("codec")]


def _lang() -> str:
    return i18n.current_language(current_app.config.get("LANGUAGE", "ru"))


def snapshot(lang: str = "ru") -> dict:
    """Each codec's state, and its last test call said in ``lang`` (its detail to the technician only)."""
    out = {}
    for dev_id in _codec_ids():
        adapter = _controller().adapter(dev_id)
        status = adapter.status()
        with _tests_lock:
            test = dict(_tests.get(dev_id, {}))
        if "code" in test:
            test["reason"] = tx.say(test["code"], {"device": adapter.label, **test["params"]}, lang, test["ok"])
            if not i18n.may_see_detail():
                test.pop("detail", None)
        out[dev_id] = {"connected": status.get("connected", False), "call": status.get("call", "unknown"),
                       "label": i18n.label(adapter.label, lang),
                       "diagnostics": status.get("diagnostics", "Unknown"), "test": test}
    return out


@bp.get("/")
def page():
    far_ends = {d.id: d.options.get("far_end", "") for d in _controller().cfg.devices_of("codec")}
    return render_template("codec.html", codecs=snapshot(_lang()), far_ends=far_ends)


@bp.get("/status.json")
def status():
    return jsonify(snapshot(_lang()))


@bp.post("/<device>/test_call")
def test_call(device: str):
    if device not in _codec_ids():
        abort(404)
    number = (request.form.get("number") or "").strip() or None
    controller = _controller()
    with _tests_lock:
        if _tests.get(device, {}).get("running"):
            return jsonify({"ok": False, "error": tx.say("codec.test_call.running",
                                                         {"device": controller.adapter(device).label}, _lang())}), 409
        _tests[device] = {"running": True, "number": number, "started": time.time()}

    def run():
        try:
            res = controller.run_on(device, lambda a: a.test_call(number), timeout=120)
            outcome = {"ok": res.ok, "code": res.code, "params": res.params, "detail": res.detail}
        except Exception as exc:      # the page must learn why, whatever happened
            outcome = {"ok": False, "code": "codec.unreachable", "params": {}, "detail": str(exc) or type(exc).__name__}
        with _tests_lock:
            _tests[device] = {"running": False, "number": number, "finished": time.time(), **outcome}

    threading.Thread(target=run, name=f"panel-test-call-{device}", daemon=True).start()
    return jsonify({"ok": True, "started": True}), 202


@bp.post("/<device>/hangup")
def hangup(device: str):
    if device not in _codec_ids():
        abort(404)
    try:
        # not through run_on: a running test call holds the device lock, and hanging up
        # must not wait for it (the line layer serialises the requests itself)
        _controller().adapter(device).hangup()
    except DeviceError as exc:
        return jsonify({"ok": False, **i18n.command_error(exc, _controller().adapter(device).label, _lang())}), 503
    return jsonify({"ok": True})


GRAPH_W, GRAPH_H, GRAPH_SAMPLES = 240, 40, 120


def _points(values: list, top: float) -> str:
    """An SVG polyline's points for ``values`` (None: a gap, drawn as 0) scaled to ``top``."""
    if not values:
        return ""
    step = GRAPH_W / max(1, len(values) - 1)
    return " ".join(f"{i * step:.1f},{GRAPH_H - min(float(v or 0), top) / top * GRAPH_H:.1f}"
                    for i, v in enumerate(values))


def quality_view(lang: str = "ru") -> dict:
    """Each codec's call quality for the panel: the latest figures and the loss and frame-rate
    graphs over the call (SVG points, newest right). Empty outside a call."""
    controller = _controller()
    life = getattr(controller, "lifecycle", None)
    if life is None:
        return {}
    limits = life.quality.limits
    out = {}
    for dev_id, cq in life.call_quality().items():
        q, series = cq["latest"], cq["series"][-GRAPH_SAMPLES:]
        loss_top = max(10.0, 2 * limits["rx_loss_pct"])
        out[dev_id] = {
            "label": i18n.label(controller.adapter(dev_id).label, lang),
            "rx_loss_pct": q.get("rx_loss_pct"), "jitter_ms": q.get("jitter_ms"), "rx_fps": q.get("rx_fps"),
            "size": f"{q['rx_width']}x{q['rx_height']}" if q.get("rx_width") and q.get("rx_height") else None,
            "rate_ratio": q.get("rate_ratio"), "rx_audio": q.get("rx_audio"),
            "loss_points": _points([s[1] for s in series], loss_top),
            "fps_points": _points([s[2] for s in series], 30.0),
            "loss_limit_y": round(GRAPH_H - limits["rx_loss_pct"] / loss_top * GRAPH_H, 1),
            "fps_limit_y": round(GRAPH_H - min(limits["min_fps"], 30.0) / 30.0 * GRAPH_H, 1),
        }
    return out


@bp.app_context_processor
def _call_quality_global():
    return {"call_quality_view": lambda: quality_view(_lang()), "graph": {"w": GRAPH_W, "h": GRAPH_H}}


@bp.get("/quality.json")
def quality():
    return jsonify(quality_view(_lang()))
