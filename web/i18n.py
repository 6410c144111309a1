"""Panel texts in Kazakh, Russian and English.

Keys are stable; each blueprint may bring its own ``MESSAGES`` (the panel's own words:
buttons, headings) which are merged at registration. What the room says about devices and
faults (reasons, roles, alarm states) is the controller's catalogue,
:mod:`vksroom.controller.texts`, one table for the panel, the act and MQTT: a key not
among the panel's words is looked up there. A missing translation falls back to Russian,
then English, then the key, so a page never shows a blank.
"""
from __future__ import annotations

import logging

from flask import g, has_request_context, request, session

from vksroom.controller import texts as tx

log = logging.getLogger(__name__)

LANGUAGES = ("kk", "ru", "en")
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

MESSAGES: dict[str, dict[str, str]] = {
    "nav.room": {"kk": "Зал", "ru": "Зал", "en": "Room"},
    "nav.hearings": {"kk": "Сот отырыстары", "ru": "Заседания", "en": "Hearings"},
    "nav.audio": {"kk": "Микрофондар", "ru": "Микрофоны", "en": "Microphones"},
    "nav.codec": {"kk": "Кодек", "ru": "Кодек", "en": "Codec"},
    "nav.cameras": {"kk": "Камералар", "ru": "Камеры", "en": "Cameras"},
    "nav.video": {"kk": "Бейне", "ru": "Видео", "en": "Video"},
    "title": {"kk": "Бейнеконференцбайланыс залы", "ru": "Зал видеоконференцсвязи", "en": "VKS courtroom"},
    "court": {"kk": "Сот", "ru": "Суд", "en": "Court"},
    "courtroom": {"kk": "Сот залы", "ru": "Зал судебных заседаний", "en": "Courtroom"},
    "room_state": {"kk": "Зал күйі", "ru": "Состояние зала", "en": "Room state"},
    "devices": {"kk": "Жабдық", "ru": "Оборудование", "en": "Equipment"},
    "device": {"kk": "Құрылғы", "ru": "Устройство", "en": "Device"},
    "state": {"kk": "Күйі", "ru": "Состояние", "en": "State"},
    "reason": {"kk": "Себебі", "ru": "Причина", "en": "Reason"},
    "required": {"kk": "міндетті", "ru": "обязательное", "en": "required"},
    "optional": {"kk": "қосымша", "ru": "дополнительное", "en": "optional"},
    "run_selftest": {"kk": "Өзін-өзі тексеруді бастау", "ru": "Запустить самопроверку", "en": "Run self-test"},
    "selftest_running": {"kk": "Тексеру жүріп жатыр…", "ru": "Идёт проверка…", "en": "Self-test running…"},
    "selftest_started": {"kk": "Тексеру басталды", "ru": "Проверка запущена", "en": "Self-test started"},
    "last_selftest": {"kk": "Соңғы тексеру", "ru": "Последняя проверка", "en": "Last self-test"},
    "measured_at": {"kk": "Өлшенген уақыты", "ru": "Время измерения", "en": "Measured at"},
    "connection_lost": {"kk": "Контроллермен байланыс жоқ", "ru": "Нет связи с контроллером",
                        "en": "No connection to the controller"},
    "state.ready": {"kk": "Дайын", "ru": "Готов", "en": "Ready"},
    "state.degraded": {"kk": "Ішінара дайын", "ru": "Частично готов", "en": "Degraded"},
    "state.not_ready": {"kk": "Дайын емес", "ru": "Не готов", "en": "Not ready"},
    "state.testing": {"kk": "Тексерілуде", "ru": "Идёт проверка", "en": "Testing"},
    "state.in_hearing": {"kk": "Сот отырысы жүріп жатыр", "ru": "Идёт заседание", "en": "In hearing"},
    "state.suspended": {"kk": "Бейнеконференцбайланыс тоқтатылды", "ru": "ВКС приостановлена",
                        "en": "VKS suspended"},
    "state.unknown": {"kk": "Белгісіз", "ru": "Неизвестно", "en": "Unknown"},
    "health.ok": {"kk": "Жарамды", "ru": "Исправно", "en": "OK"},
    "health.fault": {"kk": "Ақаулық", "ru": "Неисправность", "en": "Fault"},
    "health.unknown": {"kk": "Белгісіз", "ru": "Неизвестно", "en": "Unknown"},
    "detail": {"kk": "Техникалық мәліметтер", "ru": "Технические подробности", "en": "Technical detail"},
}


def merge(messages: dict[str, dict[str, str]] | None) -> None:
    for key, texts in (messages or {}).items():
        MESSAGES.setdefault(key, {}).update(texts)


def current_language(default: str = "ru") -> str:
    lang = getattr(g, "lang", None)
    if lang:
        return lang
    lang = request.args.get("lang") or request.cookies.get("lang") or default
    g.lang = lang if lang in LANGUAGES else default
    return g.lang


def translate(key: str, lang: str, **params) -> str:
    if key not in MESSAGES and tx.known(key):
        return tx.say(key, params, lang)
    texts = MESSAGES.get(key, {})
    text = texts.get(lang) or texts.get("ru") or texts.get("en") or key
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def reason_text(check: dict, lang: str) -> str:
    """A check's sentence in the panel's language, from its code and parameters."""
    return tx.say(check.get("code") or "", check.get("params") or {}, lang, ok=bool(check.get("ok")))


def label(value, lang: str) -> str:
    """A device's or a microphone's label (a string or {kk, ru, en}) in the panel's language."""
    return tx.pick(value, lang)


def may_see_detail() -> bool:
    """Technical detail (a driver's error) is for the technician: a user who logged in (not
    anyone who reaches a panel left open without users)."""
    return bool(session.get("user")) if has_request_context() else False


def command_error(exc: BaseException, device_label, lang: str, seconds: float | None = None) -> dict:
    """A refused or failed device command for the page: the sentence, and the technical detail
    (the exception's text) for the logged-in technician only. Logged either way."""
    from vksroom.drivers.errors import ConfigError

    if isinstance(exc, TimeoutError):
        code, params = "command.timeout", {"device": device_label, "seconds": seconds}
    elif isinstance(exc, (ConfigError, ValueError)):
        code, params = "command.bad_value", {"device": device_label}
    else:
        code, params = "command.failed", {"device": device_label}
    detail = str(exc) or type(exc).__name__
    log.info("panel command refused: %s (%s)", detail, tx.pick(device_label, "en"))
    out = {"error": tx.say(code, params, lang), "code": code}
    if may_see_detail():
        out["detail"] = detail
    return out
