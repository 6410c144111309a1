"""Panel texts in Kazakh, Russian and English.

Keys are stable; the panel's own words (buttons, headings) are gettext catalogues, one
``.po`` file per language under ``translations/``. What the room says about devices and
faults (reasons, roles, alarm states) is the controller's catalogue,
:mod:`vksroom.controller.texts`, one table for the panel, the act and MQTT: a key not
among the panel's words is looked up there. A missing translation falls back to Russian,
then English, then the key, so a page never shows a blank.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import g, has_request_context, request, session

from vksroom.controller import texts as tx

log = logging.getLogger(__name__)

LANGUAGES = ("kk", "ru", "en")
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}

TRANSLATIONS = Path(__file__).parent / "translations"
# Panel words that are the controller's own (one table for both): panel key -> catalogue code.
ALIASES = {"technician": "staff.technician", "secretary": "staff.secretary"}


def load_catalogues(folder: Path = TRANSLATIONS) -> dict[str, dict[str, str]]:
    """The panel's own words, from one gettext catalogue per language
    (``translations/<lang>/LC_MESSAGES/messages.po``, keyed by message id; translators edit
    them with ordinary .po tools): ``{key: {lang: text}}``."""
    from babel.messages.pofile import read_po

    out: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        with open(folder / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            for message in read_po(f):
                if message.id and message.string:
                    out.setdefault(str(message.id), {})[lang] = str(message.string)
    return out


MESSAGES: dict[str, dict[str, str]] = load_catalogues()


def current_language(default: str = "ru") -> str:
    lang = getattr(g, "lang", None)
    if lang:
        return lang
    lang = request.args.get("lang") or request.cookies.get("lang") or default
    g.lang = lang if lang in LANGUAGES else default
    return g.lang


def translate(key: str, lang: str, **params) -> str:
    key = ALIASES.get(key, key)
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


def role_name(role: str, lang: str) -> str:
    """A camera role's name: the catalogue's word, or a role of the room's own as its config names
    it (never the key ``role.<name>``)."""
    return tx.pick(tx.role_label(role), lang)


def figure(value, lang: str) -> str:
    """A measured figure as the page shows it: "—" when there is none, else as measured (not
    rounded further) with a decimal comma in kk and ru."""
    if value is None:
        return "—"
    text = str(value)
    return text.replace(".", ",") if lang in ("kk", "ru") and isinstance(value, float) else text


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
