"""Panel texts in Kazakh, Russian and English.

Keys are stable; each blueprint may bring its own ``MESSAGES`` which are merged at
registration. A missing translation falls back to Russian, then English, then the key,
so a page never shows a blank.
"""
from __future__ import annotations

from flask import g, request

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
    "kind.camera": {"kk": "Камера", "ru": "Камера", "en": "Camera"},
    "kind.codec": {"kk": "Кодек", "ru": "Кодек", "en": "Codec"},
    "kind.dsp": {"kk": "Дыбыс процессоры", "ru": "Аудиопроцессор", "en": "Audio DSP"},
    "reason.device.unreachable": {"kk": "Жауап бермейді: {error}", "ru": "Не отвечает: {error}",
                                  "en": "Not answering: {error}"},
    "reason.device.check_timeout": {"kk": "Тексеру {seconds} с ішінде аяқталмады",
                                    "ru": "Проверка не завершилась за {seconds} с",
                                    "en": "Check did not finish within {seconds} s"},
    "error.busy": {"kk": "Тексеру қазір мүмкін емес: {reason}", "ru": "Проверка сейчас невозможна: {reason}",
                   "en": "Cannot test now: {reason}"},
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
    texts = MESSAGES.get(key, {})
    text = texts.get(lang) or texts.get("ru") or texts.get("en") or key
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def reason_text(check: dict, lang: str) -> str:
    """A failed check's reason in the panel's language, from its code when we know it."""
    code = check.get("code") or ""
    key = f"reason.{code}"
    if key in MESSAGES:
        return translate(key, lang, **(check.get("params") or {}))
    return check.get("reason", "")
