"""The act on the absence of technical possibility (rule item 18), as the court's staff read it:
drawn from the recorded facts, complete in Kazakh and in Russian, with no driver's words."""
import io
import re
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from support.textkit import problems
from vksroom.controller.acts import Acts, render
from vksroom.controller.store import Store

DRIVER = "[Errno 5] Input/output error: '/tmp/tmpq1w2e3/ttyCODEC'; Traceback: argument must be an int, or have a " \
         "fileno() method"
CODEC = {"kk": "Кодек", "ru": "Кодек", "en": "Codec"}
DSP = {"kk": "Дыбыс процессоры", "ru": "Аудиопроцессор", "en": "Audio processor"}


def day_facts(**changes) -> dict:
    """A day on which the codec and the DSP were lost before the hearing (Lifecycle.facts() shape);
    the driver's errors are there, but only as detail."""
    facts = {
        "court": {"kk": "Астана қаласының Есіл аудандық соты", "ru": "Есильский районный суд г. Астаны"},
        "court_id": "ast-esil", "courtroom": "12", "case_number": "7199-25-00-1/230", "hearing_id": "H3",
        "start_local": "10.03.2025 14:30", "timezone": "Asia/Almaty",
        "far_side": {"kind": "detention", "name": "Учреждение ЕЦ-166/18", "number": "7166"},
        "failures": [
            {"device": "codec", "device_label": CODEC, "code": "device.unreachable", "params": {"device": CODEC},
             "first_seen_local": "10.03.2025 14:02", "cleared_local": None, "state": "cannot_be_fixed",
             "detail": DRIVER,
             "marks": [{"mark": "fixing", "by": "Ахметов Е.", "at_local": "10.03.2025 14:05"},
                       {"mark": "cannot_be_fixed", "by": "Ахметов Е.", "at_local": "10.03.2025 14:25"}]},
            {"device": "mics", "device_label": "Аудиопроцессор", "code": "dsp.unreachable", "params": {},
             "first_seen_local": "10.03.2025 14:03", "cleared_local": "10.03.2025 14:11", "state": "recovered",
             "detail": DRIVER, "marks": []},
        ],
        "tried": [
            {"at_local": "10.03.2025 14:02", "action": "first_aid.power_off", "device": "codec", "device_label": CODEC,
             "who": "", "params": {}, "detail": {"reason": DRIVER}},
            {"at_local": "10.03.2025 14:02", "action": "first_aid.power_on", "device": "codec", "device_label": CODEC,
             "who": "", "params": {}},
            {"at_local": "10.03.2025 14:04", "action": "first_aid.failed", "device": "codec", "device_label": CODEC,
             "who": "", "params": {}},
            {"at_local": "10.03.2025 14:09", "action": "first_aid.worked", "device": "mics", "device_label": DSP,
             "who": "", "params": {}},
            {"at_local": "10.03.2025 14:05", "action": "fault.marked", "device": "codec", "device_label": CODEC,
             "who": "Ахметов Е.", "params": {"mark": "fixing"}},
            *[{"at_local": "10.03.2025 14:12", "action": "selftest.repeat", "device": None, "device_label": None,
               "who": "Ахметов Е.", "params": {}}] * 3,   # three faults marked fixed in a minute, each repeating it
            {"at_local": "10.03.2025 14:30", "action": "connection.failed", "device": None, "device_label": None,
             "who": "Жанова А.", "params": {}},
        ],
        "delay": {"planned_local": "10.03.2025 14:30", "until_local": None, "minutes": None},
        "other_reason": "", "technician": "Ахметов Е.", "drawn_up_local": "10.03.2025 14:40",
    }
    return {**facts, **changes}


@pytest.fixture
def acts(tmp_path):
    store = Store(tmp_path / "room.sqlite3")
    yield Acts(store, lambda: 1741599600.0, SimpleNamespace(data_dir=str(tmp_path)))
    store.close()


def pdf_text(data: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages]


def test_the_act_of_a_day_with_a_lost_codec_and_dsp_says_it_all_in_both_languages(acts):
    act = acts.draft("H3", day_facts(), "Жанова А.")
    ru, kk = act["text_ru"], act["text_kk"]
    assert "Есильский районный суд г. Астаны" in ru and "Зал судебных заседаний: № 12" in ru
    assert "Номер дела: 7199-25-00-1/230" in ru and "10.03.2025 14:30" in ru
    assert "со следственным изолятором/учреждением: Учреждение ЕЦ-166/18 (7166)" in ru
    assert "1. Кодек не отвечает." in ru and "обнаружена: 10.03.2025 14:02; не устранена" in ru
    assert "отметки: «Устраняется» — Ахметов Е., 10.03.2025 14:05; «Устранить невозможно» — Ахметов Е., " \
           "10.03.2025 14:25" in ru
    assert "2. Аудиопроцессор не отвечает." in ru and "обнаружена: 10.03.2025 14:03; устранена: 10.03.2025 14:11" in ru
    assert "10.03.2025 14:02 — Кодек: питание отключено реле (автоматически)" in ru
    assert "10.03.2025 14:09 — Аудиопроцессор: после перезапуска питания снова отвечает (автоматически)" in ru
    assert "10.03.2025 14:05 — Отметка о неисправности: «Устраняется» (Ахметов Е.)" in ru
    assert ru.count("10.03.2025 14:12 — ") == 1                                    # said once, how often
    assert "10.03.2025 14:12 — Самопроверка проведена повторно (Ахметов Е.) — 3 раза" in ru
    assert "10.03.2025 14:30 — Дальняя сторона не ответила на вызов (Жанова А.)" in ru
    assert "Начало судебного заседания задержано: назначено на 10.03.2025 14:30, заседание не начато" in ru
    assert "техническая возможность проведения судебного заседания" in ru
    assert "Астана қаласының Есіл аудандық соты" in kk and "Іс нөмірі: 7199-25-00-1/230" in kk
    assert "1. Кодек жауап бермейді." in kk and "2. Дыбыс процессоры жауап бермейді." not in kk   # its label: a string
    assert "2. Аудиопроцессор жауап бермейді." in kk and "жойылмады" in kk
    assert "«Жою мүмкін емес» — Ахметов Е., 10.03.2025 14:25" in kk
    assert "10.03.2025 14:09 — Дыбыс процессоры: қуатты қайта қосқаннан кейін қайта жауап береді (автоматты түрде)" in kk
    assert "Өзін-өзі тексеру қайталанды (Ахметов Е.) — 3 рет" in kk
    for lang, text in (("ru", ru), ("kk", kk)):
        assert not problems(text, allow_latin=()), (lang, problems(text))

    pages = pdf_text(acts.pdf(act["id"], print_it=False))
    assert len(pages) == 2
    kk_page, ru_page = pages
    assert "АКТ" in kk_page and "мүмкіндігінің болмағаны туралы" in kk_page and "Кеңсе меңгерушісі" in kk_page
    assert "об отсутствии технической возможности" in ru_page and "Заведующий канцелярией" in ru_page
    assert "Кодек жауап бермейді" in kk_page and "Кодек не отвечает" in ru_page
    assert re.search("[әғқңөұүһі]", kk_page) and not re.search("[әғқңөұүһі]", ru_page)
    for page in pages:
        assert not problems(page), problems(page)


def test_the_pdf_is_left_aligned_without_justified_gaps(acts):
    act = acts.draft("H3", day_facts(), "Жанова А.")
    reader = PdfReader(io.BytesIO(acts.pdf(act["id"], print_it=False)))
    for page in reader.pages:
        content = page.get_contents().get_data().decode("latin-1")
        # a justified line is drawn with per-word offsets (TJ arrays) or word spacing (Tw)
        assert " TJ" not in content and not re.search(r"\b[1-9][\d.]* Tw\b", content)
        # every line (title, body, signature roles) starts at the left margin; only the
        # signature blanks stand in a column of their own
        starts = [float(x) for x, _ in re.findall(r"BT ([\d.]+) ([\d.]+) Td", content)]
        column = [x for x in starts if x < 150]
        assert len(column) > 20 and max(column) - min(column) < 0.01
        assert min(column) == pytest.approx(21 * 72 / 25.4, abs=0.5)      # 20 mm margin + the cell's 1 mm


def test_without_a_recorded_fault_the_act_gives_the_secretarys_reason(acts):
    facts = day_facts(failures=[], tried=[], other_reason="конвой не доставил подсудимого в кабинет ВКС",
                      delay={"planned_local": "10.03.2025 14:30", "until_local": "10.03.2025 15:10", "minutes": 40})
    ru, kk = render(facts, "ru"), render(facts, "kk")
    assert "Обнаруженные технические неисправности:\n  не зафиксированы" in ru
    assert "Иная причина задержки (со слов секретаря): конвой не доставил подсудимого в кабинет ВКС" in ru
    assert "назначено на 10.03.2025 14:30, начато в 10.03.2025 15:10 (задержка 40 мин)" in ru
    assert "по иной причине, указанной выше" in ru and "возможность проведения" not in ru
    assert "(40 мин кешікті)" in kk and "өзге себеппен" in kk and "конвой не доставил" in kk
    with_fault = render(day_facts(other_reason="слова секретаря"), "ru")
    assert "слова секретаря" not in with_fault          # a recorded fault is the reason


def test_the_conclusion_says_what_happened_to_the_hearing(acts):
    dsp_only = day_facts()["failures"][1:]            # the DSP, lost at 14:03 and back at 14:11
    on_time = render(day_facts(failures=dsp_only, delay=None, started_time="14:30"), "ru")
    assert ("Техническая неисправность устранена до начала судебного заседания. Судебное заседание с применением "
            "средств видеоконференцсвязи начато в назначенное время, в 14:30.") in on_time
    assert "задерж" not in on_time and "отсутствовала" not in on_time
    late = day_facts(failures=dsp_only, started_time="14:52",
                     delay={"planned_local": "10.03.2025 14:30", "until_local": "10.03.2025 14:52", "minutes": 22})
    assert ("было задержано на 22 мин, заседание начато в 14:52.") in render(late, "ru")
    assert "басталуы 22 минутқа кешіктірілді, басталған уақыты: 14:52." in render(late, "kk")
    # the codec was never back: no VKS at all (the day's facts), or none from 15:05 on once started
    assert "техническая возможность проведения судебного заседания" in render(day_facts(), "ru")
    stopped = day_facts(started_time="14:30", delay=None, stopped_since="15:05",
                        failures=[{**day_facts()["failures"][0], "first_seen_local": "10.03.2025 15:05",
                                   "during": True}])
    ru = render(stopped, "ru")
    assert "обнаруженная в 15:05, не устранена: техническая возможность продолжения судебного заседания" in ru
    assert "устранена до начала" not in ru and "задерж" not in ru
