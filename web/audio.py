"""Panel page: live microphone meters (about 7 updates a second) and mute toggles.

``GET /audio/`` the page; ``GET /audio/levels.json`` every DSP's channels with their
latest meter value and mute (read from the meter stream the adapter keeps: no device
I/O, so polling it fast costs the device nothing; while the page asks, and for
``METERS_HOLD_S`` after, the stream runs at the live rate: idle, it is slow);
``POST /audio/<device>/<channel>/mute`` with ``muted=1|0`` sets a mute through the
controller (holding that device's lock).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from vksroom.controller.devices.audio import channel_label
from vksroom.drivers.errors import ConfigError, DeviceError
from vksroom.web import i18n

NAV = ("nav.audio", "audio.page")
bp = Blueprint("audio", __name__, url_prefix="/audio", template_folder="templates")

REFRESH_MS = 150
METERS_HOLD_S = 10.0


def _controller():
    return current_app.config["CONTROLLER"]


def panel_language() -> str:
    """The page's language as the panel chose it."""
    return i18n.current_language(current_app.config.get("LANGUAGE", "ru"))


def _dsp_ids() -> list[str]:
    return [d.id for d in _controller().cfg.devices_of("dsp")]


def _label(channel, lang: str) -> str:
    return i18n.label(channel.label or channel_label(channel.index), lang)


def snapshot(lang: str = "ru") -> dict:
    out = {}
    for dev_id in _dsp_ids():
        adapter = _controller().adapter(dev_id)
        device = adapter.device
        connected = bool(device and device.connected)
        if adapter.want_meters("panel", METERS_HOLD_S) and connected:   # switched now, not at the next poll
            try:
                _controller().run_on(dev_id, lambda a: a.hold_meters("panel", METERS_HOLD_S), timeout=5)
            except (DeviceError, TimeoutError):
                pass    # the page shows what the device still gives; its coordinator reports a loss
        levels = adapter.levels() if device else {}
        mutes = adapter.mutes() if device else {}
        out[dev_id] = {"connected": connected, "label": i18n.label(adapter.label, lang), "channels": {
            name: {"label": _label(ch, lang), "db": levels.get(name), "muted": mutes.get(name),
                   "floor": ch.noise_floor_db, "clip": ch.clip_db}
            for name, ch in adapter.channels.items()}}
    return out


@bp.get("/")
def page():
    return render_template("audio.html", devices=snapshot(panel_language()), refresh_ms=REFRESH_MS)


@bp.get("/levels.json")
def levels():
    return jsonify(snapshot(panel_language()))


@bp.post("/<device>/<channel>/mute")
def mute(device: str, channel: str):
    if device not in _dsp_ids():
        abort(404)
    value = request.form.get("muted", request.args.get("muted", ""))
    label, lang = _controller().adapter(device).label, panel_language()
    if value not in ("0", "1"):
        return jsonify({"ok": False, **i18n.command_error(ConfigError(f"muted must be 0 or 1, got {value!r}"),
                                                          label, lang)}), 400
    muted = value == "1"
    try:
        _controller().run_on(device, lambda a: a.set_mute(channel, muted), timeout=5)
    except ConfigError as exc:
        return jsonify({"ok": False, **i18n.command_error(exc, label, lang)}), 404
    except (DeviceError, TimeoutError) as exc:
        return jsonify({"ok": False, **i18n.command_error(exc, label, lang, 5)}), 503
    return jsonify({"ok": True, "muted": muted})
