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

from vksroom.drivers.errors import DeviceError

NAV = ("nav.codec", "codec.page")
bp = Blueprint("codec", __name__, url_prefix="/codec", template_folder="templates")

MESSAGES = {
    "codec": {"kk": "Кодек", "ru": "Кодек", "en": "Codec"},
    "codec.call": {"kk": "Қоңырау", "ru": "Вызов", "en": "Call"},
    "codec.far_end": {"kk": "Қарсы тарап нөмірі", "ru": "Номер дальней стороны", "en": "Far-end number"},
    "codec.test_call": {"kk": "Сынақ қоңырауы", "ru": "Тестовый вызов", "en": "Test call"},
    "codec.hangup": {"kk": "Қоңырауды аяқтау", "ru": "Завершить вызов", "en": "Hang up"},
    "codec.diagnostics": {"kk": "Диагностика", "ru": "Диагностика", "en": "Diagnostics"},
    "codec.last_test": {"kk": "Соңғы сынақ", "ru": "Последний тест", "en": "Last test"},
    "codec.running": {"kk": "Қоңырау шалынуда…", "ru": "Идёт вызов…", "en": "Calling…"},
    "call.idle": {"kk": "Қоңырау жоқ", "ru": "Нет вызова", "en": "Idle"},
    "call.dialling": {"kk": "Нөмір терілуде", "ru": "Набор номера", "en": "Dialling"},
    "call.ringing": {"kk": "Шақыру", "ru": "Вызов", "en": "Ringing"},
    "call.connecting": {"kk": "Қосылуда", "ru": "Соединение", "en": "Connecting"},
    "call.connected": {"kk": "Қосылды", "ru": "Соединено", "en": "Connected"},
    "call.disconnecting": {"kk": "Ажыратылуда", "ru": "Разъединение", "en": "Disconnecting"},
    "call.unknown": {"kk": "Белгісіз", "ru": "Неизвестно", "en": "Unknown"},
    "reason.codec.test_call.connected": {
        "kk": "{far_end} нөміріне сынақ қоңырауы {time_to_connect_s} с ішінде қосылды",
        "ru": "Тестовый вызов {far_end} соединён за {time_to_connect_s} с",
        "en": "Test call to {far_end} connected in {time_to_connect_s} s"},
    "reason.codec.test_call.busy": {"kk": "{far_end} бос емес", "ru": "{far_end}: занято",
                                    "en": "{far_end} is busy"},
    "reason.codec.test_call.no_answer": {"kk": "{far_end} жауап бермейді", "ru": "{far_end} не отвечает",
                                         "en": "No answer from {far_end}"},
    "reason.codec.test_call.dropped": {"kk": "{far_end} байланысы үзілді", "ru": "Вызов {far_end} оборвался",
                                       "en": "Call to {far_end} dropped"},
    "reason.codec.test_call.rejected": {"kk": "{far_end} қоңырауы қабылданбады",
                                        "ru": "Вызов {far_end} отклонён", "en": "Call to {far_end} rejected"},
    "reason.codec.unreachable": {"kk": "Кодек жауап бермейді", "ru": "Кодек не отвечает",
                                 "en": "Codec not answering"},
    "reason.codec.diagnostics_error": {"kk": "Кодек ақау туралы хабарлайды", "ru": "Кодек сообщает об ошибке",
                                       "en": "Codec reports an error"},
    "reason.codec.link_noise": {"kk": "Байланыс желісінде кедергі бар", "ru": "Помехи на линии связи",
                                "en": "Noise on the serial line"},
}

_tests: dict[str, dict] = {}        # device id -> last/ongoing test call, for the page
_tests_lock = threading.Lock()


def _controller():
    return current_app.config["CONTROLLER"]


def _codec_ids() -> list[str]:
    return [d.id for d in _controller().cfg.devices_of("codec")]


def snapshot() -> dict:
    out = {}
    for dev_id in _codec_ids():
        status = _controller().adapter(dev_id).status()
        with _tests_lock:
            test = dict(_tests.get(dev_id, {}))
        out[dev_id] = {"connected": status.get("connected", False), "call": status.get("call", "unknown"),
                       "diagnostics": status.get("diagnostics", "Unknown"), "test": test}
    return out


@bp.get("/")
def page():
    far_ends = {d.id: d.options.get("far_end", "") for d in _controller().cfg.devices_of("codec")}
    return render_template("codec.html", codecs=snapshot(), far_ends=far_ends)


@bp.get("/status.json")
def status():
    return jsonify(snapshot())


@bp.post("/<device>/test_call")
def test_call(device: str):
    if device not in _codec_ids():
        abort(404)
    number = (request.form.get("number") or "").strip() or None
    controller = _controller()
    with _tests_lock:
        if _tests.get(device, {}).get("running"):
            return jsonify({"ok": False, "error": "a test call is already running"}), 409
        _tests[device] = {"running": True, "number": number, "started": time.time()}

    def run():
        try:
            res = controller.run_on(device, lambda a: a.test_call(number), timeout=120)
            outcome = {"ok": res.ok, "reason": res.reason, "code": res.code, "params": res.params}
        except Exception as exc:      # the page must learn why, whatever happened
            outcome = {"ok": False, "reason": str(exc) or type(exc).__name__, "code": "codec.unreachable",
                       "params": {}}
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
        return jsonify({"ok": False, "error": str(exc)}), 503
    return jsonify({"ok": True})
