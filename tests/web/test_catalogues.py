"""The panel's words are gettext catalogues, one .po file per language: every message is
there in kk, ru and en with the same placeholders, and every key a page or a blueprint asks
for exists (in the panel's catalogues or the controller's sentences)."""
import re
import string
from pathlib import Path

from vksroom.controller import texts as tx
from vksroom.web import i18n

WEB = Path(i18n.__file__).parent
FORMATTER = string.Formatter()


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in FORMATTER.parse(text) if name}


def test_every_panel_message_is_translated_with_the_same_placeholders():
    catalogues = i18n.load_catalogues()
    assert len(catalogues) > 100
    for key, texts in catalogues.items():
        assert set(texts) == {"kk", "ru", "en"}, f"{key}: untranslated in {sorted({'kk', 'ru', 'en'} - set(texts))}"
        assert len({frozenset(placeholders(t)) for t in texts.values()}) == 1, (key, texts)


def test_every_key_the_pages_and_blueprints_use_exists():
    used = set()
    for path in [*WEB.glob("templates/*.html"), *WEB.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_][\w.]*)["']""", text))
        used |= set(re.findall(r"""_t\(\s*["']([a-z_][\w.]*)["']""", text))
        used |= set(re.findall(r"""translate\(\s*["']([a-z_][\w.]*)["']""", text))
    assert len(used) > 50, sorted(used)
    used = {k for k in used if not k.endswith(".")}      # "state." ~ r.state: a prefix, completed at run time
    missing = sorted(k for k in used if k not in i18n.MESSAGES and not tx.known(i18n.ALIASES.get(k, k)))
    assert not missing, f"keys with no translation: {missing}"



# one meaning, one Kazakh word, as Russian has one: a hearing called off is "болдырылмады"
# (отменено); a call or a test stopped midway is "тоқтатылды" (остановлен, прерван); VKS
# suspended until it is allowed again is "тоқтатыла тұрды" (приостановлена, the procedure code's
# тоқтата тұру), never the plain stop
WORDS = {"отмен": "болдыр", "приостанов": "тоқтат(а|ыла) тұр", "(?<!при)останов|прерван": "тоқта(?!т(а|ыла) тұр)"}


def test_a_cancelled_hearing_a_stopped_call_and_suspended_vks_are_each_said_one_way_in_kazakh():
    sentences = {**{f"panel:{k}": v for k, v in i18n.load_catalogues().items()},
                 **{f"controller:{k}": v for k, v in tx.CATALOGUE.items()}}
    wrong, cancelled = {}, 0
    for key, texts in sentences.items():
        ru, kk = texts["ru"].lower(), texts["kk"].lower()
        meant = {kk_word for ru_word, kk_word in WORDS.items() if re.search(ru_word, ru)}
        said = {kk_word for kk_word in WORDS.values() if re.search(kk_word, kk)}
        cancelled += "болдыр" in meant
        if meant != said:
            wrong[key] = (texts["ru"], texts["kk"])
    assert cancelled >= 5                   # the hearing's cancel button, its confirmation, its status...
    assert not wrong, wrong
