"""The catalogue of what the room says: every sentence complete in Kazakh and Russian, and
every code the source uses is in it."""
import ast
from pathlib import Path

import pytest

from support.textkit import problems
from vksroom.controller import texts as tx

ROOT = Path(tx.__file__).resolve().parents[1]      # the package: the repository root

JUDGE = {"kk": "Судья камерасы", "ru": "Камера судьи", "en": "Judge camera"}
# one sample per parameter: labels as {kk, ru, en} tables, and as plain strings
AS_TABLES = {
    "device": JUDGE, "channel": {"kk": "Судья", "ru": "Судья", "en": "Judge"}, "role": tx.role_label("judge"),
    "far_side": {"kk": "Астана қаласының соты", "ru": "Суд г. Астаны", "en": "Astana city court"},
    "mark": tx.state_word("cannot_be_fixed"),
}
AS_STRINGS = {"device": "Кодек", "channel": "Прокурор", "role": "Свидетель", "far_side": "СИЗО-1 г. Астаны",
              "mark": "Устраняется"}
OTHERS = {"seconds": 1.5, "hours": 23.5, "count": 2, "peak_db": -0.4, "preset": 3, "n": 2, "far_end": "1001",
          "case": "7199-25-00-1/230", "who": "Ахметов Е.", "reason": "массовые беспорядки в учреждении",
          "field": "far_side.number", "kind": {"kk": "мәтін", "ru": "текст", "en": "text"}, "min": 1, "max": 300,
          "choices": "1, 2", "references": 2, "limit": 2, "rx_loss_pct": 12.5, "jitter_ms": 140, "rx_fps": 4,
          "rate_ratio": 0.2, "figures": "12,5%", "level_db": -72.0,
          # the hearing day guide and the protocol mark (controller/guide_texts.py)
          "time": "10:00", "date": "10.03.2025", "deadline": {"kk": "ертең 09:00", "ru": "09:00 завтра", "en": "x"},
          "end": "11:00", "until": "09:40", "opens": "09:30", "selftest": "09:15", "start": "10:05",
          "reasons": "Камера судьи не отвечает", "since": "10.03.2025 08:00", "court": "Суд г. Астаны",
          "courtroom": "12", "number": "1001", "reconnects": 1, "breaks": 0, "done": 1, "total": 3, "timeout": 60,
          "actor": {"kk": "Техникалық маман", "ru": "Технический специалист", "en": "Technician"},
          # a refused schedule message (controller/schedule_texts.py)
          "roles": {"kk": "Куә", "ru": "Свидетель", "en": "Witness"}, "now": "08:00",
          "sentence": {"kk": "Судья камерасы: сурет жоқ", "ru": "Камера судьи: нет изображения", "en": "x"}}
# a refused argument is named by its key, as the centre sends it
FIELD_KEY = {"far", "side", "number"}


def all_codes():
    return sorted(set(tx.CATALOGUE) | set(tx.ALIASES))


@pytest.mark.parametrize("labels", [AS_TABLES, AS_STRINGS], ids=["label-tables", "label-strings"])
def test_every_code_says_a_complete_sentence_in_kazakh_and_russian(labels):
    bad = {}
    for code in all_codes():
        entry = tx.CATALOGUE[tx.ALIASES.get(code, code)]
        names = {n for lang in tx.LANGS for n in tx.placeholders(entry[lang])}
        assert names <= set(labels) | set(OTHERS), f"{code}: no sample for {names - set(labels) - set(OTHERS)}"
        params = {n: (labels | OTHERS)[n] for n in names}
        for lang in ("kk", "ru"):
            said = tx.say(code, params, lang)
            assert tx.placeholders(entry[lang]) == tx.placeholders(entry["ru"]), (code, lang)
            if problems(said, FIELD_KEY) or said in (tx.CATALOGUE["generic.fault"][lang].format(device=tx.pick(params.get(
                    "device", ""), lang)), tx.CATALOGUE["generic.fault.plain"][lang]) and not code.startswith("generic."):
                bad[f"{code} [{lang}]"] = (said, problems(said, FIELD_KEY))
        assert tx.say(code, params, "en"), code
    assert not bad, bad


def test_the_language_and_the_numbers_are_the_readers():
    params = {"device": JUDGE, "seconds": 1.5}
    assert tx.say("device.check_timeout", params, "ru") == "Камера судьи: проверка не завершилась за 1,5 с"
    assert tx.say("device.check_timeout", params, "kk") == "Судья камерасы: тексеру 1,5 с ішінде аяқталмады"
    assert tx.say("device.check_timeout", params, "en") == "Judge camera: the check did not finish within 1.5 s"
    assert tx.say("test_session.missing", {"case": "1/2", "hours": 24.0}, "ru") == \
        "До заседания по делу 1/2 осталось 24 ч, тестовый сеанс не проведён"
    clipping = tx.texts("dsp.channel.clipping", {"device": "Аудиопроцессор", "channel": "Судья", "peak_db": -0.04})
    assert clipping["ru"] == "Аудиопроцессор: перегрузка микрофона «Судья» (пик 0 дБ)"     # not "-0,0"
    assert tx.say("dsp.channel.clipping", {"device": "DSP", "channel": "Судья", "peak_db": -3.25}, "en") == \
        "DSP: microphone “Судья” is clipping (peak -3.2 dB)"


def test_an_unknown_code_or_a_missing_parameter_says_a_generic_sentence_never_the_key(caplog):
    assert tx.say("camera.melted", {"device": JUDGE}, "ru") == "Камера судьи: неисправность"
    assert tx.say("camera.melted", {}, "kk") == "Құрылғы ақаулы"
    assert tx.say("device.check_timeout", {"device": JUDGE}, "ru") == "Камера судьи: неисправность"  # no seconds
    assert tx.say("camera.melted", {"device": JUDGE}, "ru", ok=True) == "Камера судьи: проверка пройдена"
    assert "camera.melted" in caplog.text                   # said in the log, once
    caplog.clear()
    tx.say("camera.melted", {}, "ru")
    assert "camera.melted" not in caplog.text


def test_default_labels_name_the_kind_and_the_position_never_the_id():
    from vksroom.controller.config import parse

    cfg = parse({"room": {"court_id": "a", "courtroom": "1"}, "devices": {
        "cam_a": {"type": "camera", "url": "visca-ip://127.0.0.1"},
        "cam_b": {"type": "camera", "url": "visca-ip://127.0.0.2", "label": {"kk": "Куә", "ru": "Свидетель"}},
        "c1": {"type": "codec", "model": "cisco", "url": "/dev/null"},
        "mics": {"type": "dsp", "model": "tesira", "url": "/dev/null", "channels": {"judge": {"index": 1}}}}})
    labels = {d: cfg.devices[d].label for d in cfg.devices}
    assert labels["cam_a"] == {"kk": "1-камера", "ru": "Камера 1", "en": "Camera 1"}
    assert labels["cam_b"] == {"kk": "Куә", "ru": "Свидетель", "en": "Свидетель"}
    assert labels["c1"]["ru"] == "Кодек" and labels["mics"]["kk"] == "Дыбыс процессоры"


# -- every code the source says is in the catalogue -----------------------------------------------

def _constants(node) -> list[str] | None:
    """The string codes an expression can be: constants, either side of a conditional; None for
    an f-string (a code must be a literal the catalogue can be checked for)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value else []
    if isinstance(node, ast.IfExp):
        a, b = _constants(node.body), _constants(node.orelse)
        return None if a is None or b is None else a + b
    if isinstance(node, ast.JoinedStr):
        return None
    return []


def codes_in(source: str, where: str = "") -> tuple[set[str], list[str]]:
    """(codes used, places that build a code from an f-string) in one module's source."""
    codes, built = set(), []
    for node in ast.walk(ast.parse(source)):
        exprs = []
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            exprs += [k.value for k in node.keywords if k.arg == "code"]
            if name == "CheckResult" and len(node.args) > 5:
                exprs.append(node.args[5])
            if name == "_raise_alarm" and len(node.args) > 3:
                exprs.append(node.args[3])
            if name in ("say", "texts") and node.args:
                exprs.append(node.args[0])
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "").endswith(("_CODES", "REASONS"))
                                                for t in node.targets) and isinstance(node.value, ast.Dict):
            exprs += node.value.values
        for e in exprs:
            found = _constants(e)
            if found is None:
                built.append(f"{where}:{e.lineno}")
            else:
                codes.update(found)
    return codes, built


def test_the_scan_finds_a_code_and_an_f_string_code():
    codes, built = codes_in('r = self.result("x", False, code="camera.melted" if a else "device.link")\n'
                            'CheckResult(d, "c", False, "", None, f"camera.{n}")\n', "m.py")
    assert codes == {"camera.melted", "device.link"} and built == ["m.py:2"]


def test_every_code_the_source_uses_is_catalogued():
    used, built = {}, []
    for path in sorted(ROOT.glob("**/*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in ("tests", ".venv", "build", "hil", "drivers", "benchmarks") or "site-packages" in rel.parts:
            continue
        codes, places = codes_in(path.read_text(encoding="utf-8"), str(rel))
        built += places
        for c in codes:
            used.setdefault(c, str(rel))
    assert len(used) > 50, sorted(used)                 # the scan sees the adapters' codes
    missing = {c: where for c, where in used.items() if not tx.known(c)}
    assert not missing, f"codes used but not in controller/texts.py: {missing}"
    assert not built, f"codes built from f-strings (write the code out): {built}"
    assert all(tx.known(m) for m in tx.MEASURES) and all(tx.known(f"alarm.state.{s}") for s in tx.ALARM_STATES)


def test_the_room_speaks_the_language_its_config_gives_the_panel(tmp_path):
    from vksroom.app import speak
    from vksroom.controller.config import parse
    from vksroom.controller.model import CheckResult

    cfg = parse({"room": {"court_id": "a", "courtroom": "1"}, "panel": {"language": "kk"},
                 "devices": {"c1": {"type": "codec", "model": "cisco", "url": "/dev/null"}}})
    check = CheckResult("c1", "reachable", False, code="device.unreachable", params={"device": cfg.devices["c1"].label})
    try:
        assert check.to_dict()["reason"] == "Кодек не отвечает"
        speak(cfg)
        assert check.to_dict()["reason"] == "Кодек жауап бермейді"
        with pytest.raises(ValueError):
            tx.set_default_language("de")
    finally:
        tx.set_default_language("ru")


def test_an_alarm_found_at_a_preset_names_it_when_its_sentence_does_not():
    """A black picture at each of a camera's presets is one alarm each: said alike, the act and the
    banner would list identical lines."""
    at = {role: tx.say_where("camera.video.black", {"device": JUDGE, "preset": role, "role": tx.role_label(role)}, "ru")
          for role in ("judge", "witness")}
    assert at == {"judge": "Камера судьи: чёрный экран или нет сигнала (позиция «Судья»)",
                  "witness": "Камера судьи: чёрный экран или нет сигнала (позиция «Свидетель»)"}
    assert tx.say_where("camera.preset_failed", {"device": JUDGE, "preset": 1, "role": tx.role_label("judge")},
                        "kk") == "Судья камерасы: «Судья» позициясы (№ 1) шақырылмады"      # named once already
    assert tx.say_where("device.unreachable", {"device": "Кодек"}, "ru") == "Кодек не отвечает"
