"""The act on the absence of technical possibility to use VKS (rule item 18).

Drawn up by the secretary when a fault cannot be removed or the start is delayed, signed
by the head of chancellery, the secretary and the technician, attached to the case file.
The room drafts it in Kazakh and in Russian from the recorded facts (court, courtroom,
case, hearing time, what failed and when, what was tried); the text stays editable until
it is printed; the PDF carries both language versions, each with three signature lines.

The PDF is built with fpdf2 and the DejaVu Sans font (Cyrillic and the Kazakh letters
ә ғ қ ң ө ұ ү һ і) from Debian's ``fonts-dejavu-core``.
"""
from __future__ import annotations

import json
import datetime as dt
from pathlib import Path

from vksroom.controller import texts as tx
from vksroom.controller.store import Store

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
LANGS = ("kk", "ru")
MAX_TEXT = 20_000

TITLE = {
    "kk": "Бейнеконференцбайланыс құралдарын қолданудың техникалық мүмкіндігінің болмағаны туралы\nАКТ",
    "ru": "АКТ\nоб отсутствии технической возможности применения средств видеоконференцсвязи",
}
SIGNATURES = {
    "kk": ("Кеңсе меңгерушісі", "Сот отырысының хатшысы", "Техникалық маман"),
    "ru": ("Заведующий канцелярией", "Секретарь судебного заседания", "Технический специалист"),
}
FAR_KIND = {
    "kk": {"court": "сотпен", "detention": "тергеу изоляторымен/мекемемен"},
    "ru": {"court": "с судом", "detention": "со следственным изолятором/учреждением"},
}


class ActError(tx.Refused):
    """An act the room will not show, change or print: a ``refused.*`` code people read, and
    the technical words (a missing font's path) in ``detail`` for the log."""

    def __init__(self, code: str, detail: str = "", **params):
        super().__init__(code, **params)
        self.detail = detail


# The act's own words; what failed and what was done is said by the catalogue (controller/texts.py).
LABELS = {
    "kk": {"court": "Сот", "room": "Сот отырысы залы", "case": "Іс нөмірі",
           "time": "Сот отырысының күні мен уақыты", "local": "жергілікті уақыт", "vks": "Бейнеконференцбайланыс",
           "failures": "Анықталған техникалық ақаулықтар:", "none": "тіркелмеген",
           "seen": "анықталған уақыты", "cleared": "жойылған уақыты", "not_removed": "жойылмады",
           "state": "күйі", "marks": "белгілер", "by_at": "{who}, {at}",
           "tried": "Ақаулықты жою үшін жасалған әрекеттер:", "auto": "автоматты түрде",
           "delay": "Сот отырысының басталуы кешіктірілді",
           "delay.until": "белгіленген уақыты {planned}, басталған уақыты {until} ({minutes} мин кешікті)",
           "delay.open": "белгіленген уақыты {planned}, отырыс басталмады",
           "other": "Кешіктірудің өзге себебі (хатшының сөзімен)",
           "conclusion.unremoved": "Техникалық ақаулықты жою мүмкін болмағандықтан, сот отырысын "
                                   "бейнеконференцбайланыс құралдарын қолданып өткізудің техникалық мүмкіндігі "
                                   "болмады.",
           "conclusion.delayed.open": "Техникалық ақаулық жойылды; бейнеконференцбайланыс құралдарын қолданып "
                                      "өткізілетін сот отырысының басталуы кешіктірілді.",
           "conclusion.delayed": "Техникалық ақаулық жойылды; бейнеконференцбайланыс құралдарын қолданып "
                                 "өткізілетін сот отырысының басталуы {minutes} минутқа кешіктірілді, басталған "
                                 "уақыты: {started}.",
           "conclusion.cleared": "Техникалық ақаулық сот отырысы басталғанға дейін жойылды.",
           "conclusion.started": "Бейнеконференцбайланыс құралдарын қолданып өткізілетін сот отырысы белгіленген "
                                 "уақытта басталды, басталған уақыты: {started}.",
           "conclusion.break": "Сот отырысы барысында {minutes} минуттық техникалық үзіліс болды ({from}–{until}); "
                               "ақаулық жойылғаннан кейін сот отырысы бейнеконференцбайланыс құралдарын қолданып "
                               "жалғастырылды, жалғастырылған уақыты: {until}.",
           "conclusion.stopped": "Техникалық ақаулық жойылмады (анықталған уақыты: {since}): сот отырысын "
                                 "бейнеконференцбайланыс құралдарын қолданып жалғастырудың техникалық мүмкіндігі "
                                 "болмады.",
           "conclusion.other": "Бейнеконференцбайланыс құралдарын қолданып өткізілетін сот отырысының басталуы "
                               "жоғарыда көрсетілген өзге себеппен кешіктірілді.",
           "technician": "Техникалық маман", "drawn_up": "Акт жасалған күн"},
    "ru": {"court": "Суд", "room": "Зал судебных заседаний", "case": "Номер дела",
           "time": "Дата и время судебного заседания", "local": "местное время", "vks": "Видеоконференцсвязь",
           "failures": "Обнаруженные технические неисправности:", "none": "не зафиксированы",
           "seen": "обнаружена", "cleared": "устранена", "not_removed": "не устранена",
           "state": "состояние", "marks": "отметки", "by_at": "{who}, {at}",
           "tried": "Принятые меры к устранению неисправности:", "auto": "автоматически",
           "delay": "Начало судебного заседания задержано",
           "delay.until": "назначено на {planned}, начато в {until} (задержка {minutes} мин)",
           "delay.open": "назначено на {planned}, заседание не начато",
           "other": "Иная причина задержки (со слов секретаря)",
           "conclusion.unremoved": "Ввиду невозможности устранения технической неисправности техническая возможность "
                                   "проведения судебного заседания с применением средств видеоконференцсвязи "
                                   "отсутствовала.",
           "conclusion.delayed.open": "Техническая неисправность устранена; начало судебного заседания с применением "
                                      "средств видеоконференцсвязи было задержано.",
           "conclusion.delayed": "Техническая неисправность устранена; начало судебного заседания с применением "
                                 "средств видеоконференцсвязи было задержано на {minutes} мин, заседание начато "
                                 "в {started}.",
           "conclusion.cleared": "Техническая неисправность устранена до начала судебного заседания.",
           "conclusion.started": "Судебное заседание с применением средств видеоконференцсвязи начато в назначенное "
                                 "время, в {started}.",
           "conclusion.break": "Во время судебного заседания произошёл технический перерыв продолжительностью "
                               "{minutes} мин (с {from} до {until}); после устранения неисправности судебное "
                               "заседание продолжено в {until} с применением средств видеоконференцсвязи.",
           "conclusion.stopped": "Техническая неисправность, обнаруженная в {since}, не устранена: техническая "
                                 "возможность продолжения судебного заседания с применением средств "
                                 "видеоконференцсвязи отсутствовала.",
           "conclusion.other": "Начало судебного заседания с применением средств видеоконференцсвязи было задержано "
                               "по иной причине, указанной выше.",
           "technician": "Технический специалист", "drawn_up": "Дата составления акта"},
}


def _pick(value, lang: str) -> str:
    return tx.pick(value, lang) if value not in (None, "") else ""


def _who(who, lang: str) -> str:
    """Who acted, in ``lang`` (the panel with no users is named, not its key); nobody: "automatically"."""
    return _pick(tx.person(who), lang) or LABELS[lang]["auto"]


def _failure(f: dict, n: int, lang: str) -> list[str]:
    """One recorded fault: the sentence naming the device, when it was seen and cleared, its marks."""
    t = LABELS[lang]
    params = dict(f.get("params") or {})
    label = f.get("device_label") or params.get("device") or tx.CATALOGUE["generic.device"]
    sentence = tx.say_where(f.get("code") or "", {**params, "device": label}, lang)
    seen = f.get("first_seen_local") or f.get("at") or "—"
    cleared = f.get("cleared_local")
    lines = [f"{n}. {sentence}.",
             f"   {t['seen']}: {seen}; {t['cleared']}: {cleared}" if cleared else
             f"   {t['seen']}: {seen}; {t['not_removed']}"]
    if f.get("state") and f["state"] != "open":          # open: "not removed" says it already
        lines.append(f"   {t['state']}: {tx.state_word(f['state'])[lang]}")
    marks = [f"«{tx.state_word(m.get('mark', ''))[lang]}» — "
             + t["by_at"].format(who=_who(m.get("by"), lang), at=m.get("at_local") or "—")
             for m in f.get("marks") or ()]
    if marks:
        lines.append(f"   {t['marks']}: " + "; ".join(marks))
    return lines


def _measure(x: dict, lang: str) -> str:
    """One measure taken (first aid by relay, a reconnect, a repeated self-test, a mark): when, what, who."""
    params = dict(x.get("params") or {})
    if x.get("device_label") or x.get("device"):
        params.setdefault("device", x.get("device_label") or tx.CATALOGUE["generic.device"])
    if x.get("action") == "fault.marked":
        mark = params.get("mark") or (x.get("detail") or {}).get("mark", "")
        params["mark"] = tx.state_word(mark) if isinstance(mark, str) else mark
        params.setdefault("who", _who(x.get("who"), lang))
    what = tx.say(x.get("action") or "", params, lang)
    if x.get("quality"):       # the call's figures at that moment (before or after a reconnect)
        figures = {k: "—" if v is None else v for k, v in x["quality"].items()}
        what += ": " + tx.say("call.quality.figures", figures, lang)
    who = _who(x.get("who"), lang)
    at = x.get("at_local") or x.get("at") or "—"
    return f"  {at} — {what}" + ("" if x.get("action") == "fault.marked" else f" ({who})")


def _times(n: int, lang: str) -> str:
    """"3 раза" / "3 рет": how often a measure was taken in the same minute."""
    if lang == "kk":
        return f"{n} рет"
    word = "раза" if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14) else "раз"
    return f"{n} {word}"


def _once(lines, lang: str) -> list[str]:
    """Measures said alike in a row (several recoveries each repeating the self-test in one minute)
    as one line with how many times."""
    out: list[list] = []
    for line in lines:
        if out and out[-1][0] == line:
            out[-1][1] += 1
        else:
            out.append([line, 1])
    return [line if n == 1 else f"{line} — {_times(n, lang)}" for line, n in out]


def _conclusion(facts: dict, t: dict) -> list[str]:
    """What happened, said as it happened: a fault cleared before the start; a start delayed
    by N minutes; a technical break of N minutes during the hearing, resumed at HH:MM; a fault
    never cleared, before the start (no VKS at all) or after it (the hearing could not go on)."""
    failures = facts.get("failures") or []
    if not failures:
        return [t["conclusion.other"]]
    uncleared = [f for f in failures if not f.get("cleared_local")]
    delay, started = facts.get("delay") or {}, facts.get("started_time")
    if not started:                                 # the hearing has not started (with VKS)
        if uncleared:
            return [t["conclusion.unremoved"]]
        return [t["conclusion.delayed.open"] if delay else t["conclusion.cleared"]]
    said = []
    if any(not f.get("during") for f in failures):  # faults before the start
        if delay.get("until_local") and (delay.get("minutes") or 0) >= 1:
            said.append(t["conclusion.delayed"].format(minutes=delay["minutes"], started=started))
        else:
            if not any(not f.get("during") for f in uncleared):
                said.append(t["conclusion.cleared"])
            said.append(t["conclusion.started"].format(started=started))
    said += [t["conclusion.break"].format(**b) for b in facts.get("breaks") or ()]
    if uncleared:
        said.append(t["conclusion.stopped"].format(since=facts.get("stopped_since") or started))
    return said


def render(facts: dict, lang: str) -> str:
    """The act's body text in ``lang`` from the facts (the signature lines are added to the PDF).

    Said from codes and parameters only (:mod:`vksroom.controller.texts`): the court, the
    courtroom, the case, the hearing's date and time, the far side; each recorded fault with
    the device's label, the sentence, when it was seen and cleared (or that it was not
    removed) and the technician's marks; every measure taken, with who and when; the delay;
    and, when no fault was recorded, the secretary's own words for the delay's reason."""
    t = LABELS[lang]
    fs = facts.get("far_side") or {}
    kind = FAR_KIND[lang].get(fs.get("kind") or "court", FAR_KIND[lang]["court"])
    far = fs.get("name", "") + (f" ({fs['number']})" if fs.get("number") else "")
    lines = [f"{t['court']}: {_pick(facts.get('court'), lang)}", f"{t['room']}: № {facts.get('courtroom', '')}",
             f"{t['case']}: {facts.get('case_number', '')}",
             f"{t['time']}: {facts.get('start_local', '')} ({t['local']})", f"{t['vks']} {kind}: {far}", "",
             t["failures"]]
    failures = facts.get("failures") or []
    for n, f in enumerate(failures, 1):
        lines += _failure(f, n, lang)
    if not failures:
        lines.append(f"  {t['none']}")
    lines += ["", t["tried"]]
    lines += _once((_measure(x, lang) for x in facts.get("tried") or ()), lang) or ["  —"]
    delay = facts.get("delay")
    if delay:
        key = "delay.until" if delay.get("until_local") else "delay.open"
        lines += ["", f"{t['delay']}: " + t[key].format(planned=delay.get("planned_local") or "—",
                                                          until=delay.get("until_local") or "—",
                                                          minutes=delay.get("minutes") if delay.get("minutes")
                                                          is not None else "—")]
    other = (facts.get("other_reason") or "").strip()
    if other and not failures:
        lines += ["", f"{t['other']}: {other}"]
    lines += ["", " ".join(_conclusion(facts, t))]
    if facts.get("technician") and facts["technician"] != tx.PANEL:   # a panel without users names nobody
        lines.append(f"{t['technician']}: {_who(facts['technician'], lang)}")
    lines.append(f"{t['drawn_up']}: {facts.get('drawn_up_local', '')}")
    return "\n".join(lines)


def _act(row: dict) -> dict:
    return {**row, "facts": json.loads(row["facts"])}


class Acts:
    def __init__(self, store: Store, clock, cfg, font_dir: Path = FONT_DIR):
        self.store = store
        self.clock = clock
        self.cfg = cfg
        self.font_dir = Path(font_dir)
        self.dir = Path(cfg.data_dir) / "acts"

    def draft(self, hearing_id: str, facts: dict, who: str = "") -> dict:
        aid = self.store.execute(
            "INSERT INTO acts(hearing_id, created_at, facts, text_kk, text_ru, edited_by) VALUES (?,?,?,?,?,?)",
            (hearing_id, self.clock(), json.dumps(facts, ensure_ascii=False), render(facts, "kk"),
             render(facts, "ru"), who))
        return self._known(aid)

    def get(self, act_id) -> dict | None:
        rows = self.store.query("SELECT * FROM acts WHERE id=?", (act_id,))
        return _act(rows[0]) if rows else None

    def _known(self, act_id) -> dict:
        act = self.get(act_id)
        if act is None:
            raise ActError("refused.no_act", f"no act {act_id}")
        return act

    def for_hearing(self, hearing_id: str) -> list[dict]:
        return [_act(r) for r in self.store.query("SELECT * FROM acts WHERE hearing_id=? ORDER BY id", (hearing_id,))]

    def all(self) -> list[dict]:
        return [_act(r) for r in self.store.query("SELECT * FROM acts ORDER BY id")]

    def edit(self, act_id, texts: dict, who: str) -> dict:
        """Change the text before printing. ``texts`` maps kk/ru to the new text."""
        act = self._known(act_id)
        if act["printed_at"]:
            raise ActError("refused.act_printed", f"act {act_id} was printed")
        if not isinstance(who, str) or not who.strip():
            raise ActError("refused.act_editor")
        for lang, text in texts.items():
            if lang not in LANGS:
                raise ActError("refused.act_languages", f"{lang}: the act is kept in kk and ru only")
            if not isinstance(text, str) or not text.strip():
                raise ActError("refused.act_empty", f"{lang}: the text may not be empty")
            if len(text) > MAX_TEXT:
                raise ActError("refused.text_too_long", f"{lang}: the text is longer than {MAX_TEXT} characters")
        for lang, text in texts.items():
            self.store.execute(f"UPDATE acts SET text_{lang}=?, edited_by=?, edited_at=? WHERE id=?",
                               (text.replace("\r\n", "\n").strip(), who.strip(), self.clock(), act_id))
        return self._known(act_id)

    def pdf(self, act_id, print_it: bool = True) -> bytes:
        """The act as a PDF (Kazakh page, then Russian page); printing it fixes the text."""
        act = self._known(act_id)
        data = self._build(act)
        if print_it:
            self.dir.mkdir(parents=True, exist_ok=True)
            path = self.dir / f"act-{act_id}.pdf"
            path.write_bytes(data)
            if not act["printed_at"]:
                self.store.execute("UPDATE acts SET printed_at=?, pdf_path=? WHERE id=?",
                                   (self.clock(), str(path), act_id))
        return data

    def _build(self, act: dict) -> bytes:
        try:
            from fpdf import FPDF
        except ImportError:
            raise ActError("refused.act_pdf", "fpdf2 is not installed: pip install fpdf2") from None
        regular, bold = self.font_dir / "DejaVuSans.ttf", self.font_dir / "DejaVuSans-Bold.ttf"
        missing = [str(p) for p in (regular, bold) if not p.is_file()]
        if missing:
            raise ActError("refused.act_pdf", f"font missing: {', '.join(missing)} (install Debian's fonts-dejavu-core)")
        pdf = FPDF(format="A4")
        pdf.set_margins(20, 20, 15)
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        pdf.set_title(f"Акт № {act['id']}")
        pdf.set_creation_date(dt.datetime.fromtimestamp(act["created_at"], dt.timezone.utc))
        for lang in LANGS:
            pdf.add_page()
            pdf.set_font("DejaVu", "B", 12)
            # left-aligned throughout: justified lines of a short act open wide gaps between words
            pdf.multi_cell(0, 6, TITLE[lang], align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
            pdf.set_font("DejaVu", "")
            pdf.set_font_size(10.5)
            pdf.multi_cell(0, 5.5, act[f"text_{lang}"], align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(10)
            for role in SIGNATURES[lang]:
                pdf.cell(80, 8, role, align="L")
                pdf.cell(0, 8, "______________________  /______________/", align="L", new_x="LMARGIN",
                         new_y="NEXT")
                pdf.ln(3)
        return bytes(pdf.output())
