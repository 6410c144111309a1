"""Panel page: live microphone meters (about 7 updates a second) and mute toggles.

``GET /audio/`` the page; ``GET /audio/levels.json`` every DSP's channels with their
latest meter value and mute (read from the meter stream the adapter keeps: no device
I/O, so polling it fast costs the device nothing); ``POST /audio/<device>/<channel>/mute``
with ``muted=1|0`` sets a mute through the controller (holding that device's lock).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from vksroom.drivers.errors import ConfigError, DeviceError

NAV = ("nav.audio", "audio.page")
bp = Blueprint("audio", __name__, url_prefix="/audio", template_folder="templates")

REFRESH_MS = 150

MESSAGES = {
    "audio": {"kk": "Микрофондар", "ru": "Микрофоны", "en": "Microphones"},
    "audio.hint": {"kk": "Әр микрофонға кезекпен сөйлеңіз: жолақ жасыл болуы керек.",
                   "ru": "Говорите в каждый микрофон по очереди: полоса должна стать зелёной.",
                   "en": "Speak into each microphone in turn: its bar should turn green."},
    "audio.mute": {"kk": "Дыбысын өшіру", "ru": "Выключить звук", "en": "Mute"},
    "audio.unmute": {"kk": "Дыбысын қосу", "ru": "Включить звук", "en": "Unmute"},
    "audio.muted": {"kk": "Дыбысы өшірулі", "ru": "Звук выключен", "en": "Muted"},
    "audio.no_signal": {"kk": "Сигнал жоқ", "ru": "Нет сигнала", "en": "No signal"},
    "audio.clipping": {"kk": "Шамадан тыс", "ru": "Перегрузка", "en": "Clipping"},
    "audio.offline": {"kk": "Құрылғымен байланыс жоқ", "ru": "Нет связи с устройством", "en": "Device not connected"},
    "reason.dsp.channel.muted": {"kk": "{channel}: микрофонның дыбысы өшірулі", "ru": "{channel}: микрофон выключен",
                                 "en": "{channel}: microphone muted"},
    "reason.dsp.channel.dead": {"kk": "{channel}: сигнал жоқ (ең жоғары {peak_db} дБ)",
                                "ru": "{channel}: нет сигнала (пик {peak_db} дБ)",
                                "en": "{channel}: no signal (peak {peak_db} dB)"},
    "reason.dsp.channel.clipping": {"kk": "{channel}: дыбыс шамадан тыс қатты (ең жоғары {peak_db} дБ)",
                                    "ru": "{channel}: перегрузка (пик {peak_db} дБ)",
                                    "en": "{channel}: clipping (peak {peak_db} dB)"},
    "reason.dsp.channel.unmuted": {"kk": "{channel}: қосалқы кіріс өшірілмеген",
                                   "ru": "{channel}: резервный вход не выключен",
                                   "en": "{channel}: spare input should be muted"},
    "reason.dsp.channel.no_meter": {"kk": "{channel}: деңгей өлшенбеді", "ru": "{channel}: нет показаний уровня",
                                    "en": "{channel}: no meter readings"},
    "reason.dsp.unreachable": {"kk": "Аудиопроцессор жауап бермейді", "ru": "Аудиопроцессор не отвечает",
                               "en": "Audio processor not answering"},
    "reason.dsp.link_noise": {"kk": "Байланыс желісінде кедергі бар", "ru": "Помехи на линии связи",
                              "en": "Noise on the serial line"},
}


def _controller():
    return current_app.config["CONTROLLER"]


def panel_language() -> str:
    """The page's language as the panel chose it (web.i18n when present)."""
    default = current_app.config.get("LANGUAGE", "ru")
    try:
        from vksroom.web.i18n import current_language
    except ImportError:
        lang = request.args.get("lang") or request.cookies.get("lang") or default
        return lang if lang in ("kk", "ru", "en") else default
    return current_language(default)


def _dsp_ids() -> list[str]:
    return [d.id for d in _controller().cfg.devices_of("dsp")]


def _label(channel, lang: str) -> str:
    label = channel.label
    if isinstance(label, dict):
        return label.get(lang) or label.get("ru") or channel.name
    return label or channel.name


def snapshot(lang: str = "ru") -> dict:
    out = {}
    for dev_id in _dsp_ids():
        adapter = _controller().adapter(dev_id)
        device = adapter.device
        connected = bool(device and device.connected)
        levels = adapter.levels() if device else {}
        mutes = adapter.mutes() if device else {}
        out[dev_id] = {"connected": connected, "channels": {
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
    if value not in ("0", "1"):
        return jsonify({"ok": False, "error": "muted must be 0 or 1"}), 400
    muted = value == "1"
    try:
        _controller().run_on(device, lambda a: a.set_mute(channel, muted), timeout=5)
    except ConfigError as exc:
        return jsonify({"ok": False, "error": str(exc)}), 404
    except (DeviceError, TimeoutError) as exc:
        return jsonify({"ok": False, "error": str(exc) or "device busy"}), 503
    return jsonify({"ok": True, "muted": muted})
