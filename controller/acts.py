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
ACTIONS = {
    "kk": {"first_aid.power_off": "қуаты реле арқылы ажыратылды", "first_aid.power_on": "қуаты қайта қосылды",
           "first_aid.worked": "құрылғы қайта жауап берді", "first_aid.failed": "қуатты қайта қосу көмектеспеді",
           "connection.failed": "қарсы тарап жауап бермеді", "reconnect.started": "байланыс қайта орнатылды",
           "selftest.repeat": "өзін-өзі тексеру қайталанды", "fault.marked": "техникалық маман белгі қойды"},
    "ru": {"first_aid.power_off": "питание отключено реле", "first_aid.power_on": "питание включено снова",
           "first_aid.worked": "устройство снова отвечает", "first_aid.failed": "перезапуск питания не помог",
           "connection.failed": "дальняя сторона не ответила", "reconnect.started": "соединение переустановлено",
           "selftest.repeat": "самопроверка повторена", "fault.marked": "отметка технического специалиста"},
}
MARK_TEXT = {
    "kk": {"fixing": "жойылуда", "fixed": "жойылды", "cannot_be_fixed": "жою мүмкін емес", "open": "ашық",
           "cleared": "жойылды"},
    "ru": {"fixing": "устраняется", "fixed": "устранено", "cannot_be_fixed": "устранить невозможно",
           "open": "открыто", "cleared": "снято"},
}


class ActError(ValueError):
    pass


LABELS = {
    "kk": {"court": "Сот", "room": "Сот отырысы залы", "case": "Іс нөмірі",
           "time": "Сот отырысының күні мен уақыты", "vks": "Бейнеконференцбайланыс",
           "failures": "Анықталған техникалық ақаулықтар:", "tried": "Ақаулықты жою үшін жасалған әрекеттер:",
           "conclusion": "Техникалық ақаулықты жою мүмкін болмағандықтан, сот отырысын бейнеконференцбайланыс "
                         "құралдарын қолданып өткізудің техникалық мүмкіндігі болмады.",
           "drawn_up": "Акт жасалған күн"},
    "ru": {"court": "Суд", "room": "Зал судебных заседаний", "case": "Номер дела",
           "time": "Дата и время судебного заседания", "vks": "Видеоконференцсвязь",
           "failures": "Обнаруженные технические неисправности:", "tried": "Принятые меры к устранению неисправности:",
           "conclusion": "Ввиду невозможности устранения технической неисправности техническая возможность "
                         "проведения судебного заседания с применением средств видеоконференцсвязи отсутствовала.",
           "drawn_up": "Дата составления акта"},
}


def render(facts: dict, lang: str) -> str:
    """The act's body text in ``lang`` from the facts (the signature lines are added to the PDF)."""
    t = LABELS[lang]
    court = facts["court"].get(lang) or facts["court"].get("ru", "")
    fs = facts["far_side"]
    kind = FAR_KIND[lang].get(fs["kind"], fs["kind"])
    acts = ACTIONS[lang]
    lines = [f"{t['court']}: {court}", f"{t['room']}: № {facts['courtroom']}", f"{t['case']}: {facts['case_number']}",
             f"{t['time']}: {facts['start_local']}", f"{t['vks']} {kind}: {fs['name']} ({fs['number']})", "",
             t["failures"]]
    lines += [f"  {f['at']} — {f['what']} ({MARK_TEXT[lang].get(f['state'], f['state'])})"
              for f in facts["failures"]] or ["  —"]
    lines += ["", t["tried"]]
    lines += [f"  {x['at']} — {acts.get(x['action'], x['action'])}" + (f" ({x['device']})" if x["device"] else "")
              + (f", {x['who']}" if x["who"] else "") for x in facts["tried"]] or ["  —"]
    lines += ["", t["conclusion"], f"{t['drawn_up']}: {facts['drawn_up_local']}"]
    return "\n".join(lines)


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
        return self.get(aid)

    def get(self, act_id) -> dict | None:
        rows = self.store.query("SELECT * FROM acts WHERE id=?", (act_id,))
        return {**rows[0], "facts": json.loads(rows[0]["facts"])} if rows else None

    def for_hearing(self, hearing_id: str) -> list[dict]:
        return [self.get(r["id"]) for r in self.store.query("SELECT id FROM acts WHERE hearing_id=? ORDER BY id",
                                                            (hearing_id,))]

    def all(self) -> list[dict]:
        return [self.get(r["id"]) for r in self.store.query("SELECT id FROM acts ORDER BY id")]

    def edit(self, act_id, texts: dict, who: str) -> dict:
        """Change the text before printing. ``texts`` maps kk/ru to the new text."""
        act = self.get(act_id)
        if act is None:
            raise ActError(f"no act {act_id}")
        if act["printed_at"]:
            raise ActError(f"act {act_id} was printed; draw up a new act to change it")
        if not isinstance(who, str) or not who.strip():
            raise ActError("say who edits the act")
        errors = []
        for lang, text in texts.items():
            if lang not in LANGS:
                errors.append(f"{lang}: the act is kept in kk and ru only")
            elif not isinstance(text, str) or not text.strip():
                errors.append(f"{lang}: the text may not be empty")
            elif len(text) > MAX_TEXT:
                errors.append(f"{lang}: the text is longer than {MAX_TEXT} characters")
        if errors:
            raise ActError("; ".join(errors))
        for lang, text in texts.items():
            self.store.execute(f"UPDATE acts SET text_{lang}=?, edited_by=?, edited_at=? WHERE id=?",
                               (text.replace("\r\n", "\n").strip(), who.strip(), self.clock(), act_id))
        return self.get(act_id)

    def pdf(self, act_id, print_it: bool = True) -> bytes:
        """The act as a PDF (Kazakh page, then Russian page); printing it fixes the text."""
        act = self.get(act_id)
        if act is None:
            raise ActError(f"no act {act_id}")
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
            raise ActError("fpdf2 is not installed: pip install fpdf2") from None
        regular, bold = self.font_dir / "DejaVuSans.ttf", self.font_dir / "DejaVuSans-Bold.ttf"
        missing = [str(p) for p in (regular, bold) if not p.is_file()]
        if missing:
            raise ActError(f"font missing: {', '.join(missing)} (install Debian's fonts-dejavu-core)")
        pdf = FPDF(format="A4")
        pdf.set_margins(20, 20, 15)
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        pdf.set_title(f"Act {act['id']} / hearing {act['hearing_id']}")
        pdf.set_creation_date(dt.datetime.fromtimestamp(act["created_at"], dt.timezone.utc))
        for lang in LANGS:
            pdf.add_page()
            pdf.set_font("DejaVu", "B", 12)
            pdf.multi_cell(0, 6, TITLE[lang], align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
            pdf.set_font("DejaVu", "", 10.5)
            pdf.multi_cell(0, 5.5, act[f"text_{lang}"], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(10)
            for role in SIGNATURES[lang]:
                pdf.cell(80, 8, role)
                pdf.cell(0, 8, "______________________  /______________/", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
        return bytes(pdf.output())
