"""The protocol mark (item 21): the hearing's VKS use in kk and ru, from its record, on a page
to print or copy."""
import re

import pytest

from support.lifehelp import SIZO, at, clock, iso, life, life_room, mock_factory  # noqa: F401  (fixtures)
from vksroom.controller.model import CheckResult


@pytest.fixture
def room(life):
    return life.controller


def mark_lines(page: str, lang: str) -> list[str]:
    section = re.search(rf'<section class="protocol-mark" id="mark-{lang}".*?</section>', page, re.S).group(0)
    return [" ".join(re.sub(r"<[^>]+>", "", m).split()) for m in re.findall(r"<(?:h2|p)>(.*?)</(?:h2|p)>", section)]


def test_the_mark_says_far_side_connection_breaks_and_reconnects_in_kazakh_and_russian(life, client, clock):
    life.devices["codec"].answering = {SIZO["number"]}
    life.controller.command("hearing.create", {"id": "H4", "version": 1, "case_number": "7199-25-00-1/230",
                                               "start": iso(9, "08:30"), "far_side": "sizo-1"})
    empty = client.get("/hearings/H4/protocol-mark").get_data(as_text=True)
    assert mark_lines(empty, "ru")[2] == "Видеоконференцсвязь не устанавливалась (СИЗО-1 г. Астаны)."
    clock.advance_to(at(9, "08:30"))
    client.post("/hearings/H4/connect")
    clock.advance(5)
    life.wait(lambda: life.life.connected("H4"))
    for _ in range(7):                               # the call degrades: a technical break
        life.life.report([CheckResult("codec", "audio_level", False, "", None, "call.dropped", {"far_side": "СИЗО-1"})])
        clock.advance(5)
    assert life.life.break_recommended("H4")
    client.post("/hearings/H4/reconnect")
    clock.advance(5)
    life.wait(lambda: life.life.connected("H4"))
    clock.advance_to(at(9, "09:10"))
    client.post("/hearings/H4/end", data={"confirm": "yes"})   # the second press of "end"
    page = client.get("/hearings/H4/protocol-mark").get_data(as_text=True)
    ru = mark_lines(page, "ru")
    assert ru[:4] == ["Отметка о применении видеоконференцсвязи", "Дело № 7199-25-00-1/230, 09.03.2025",
                      "Судебное заседание проведено с использованием видеоконференцсвязи: Специализированный "
                      "межрайонный административный суд г. Астаны, зал 12 — «СИЗО-1 г. Астаны» (sizo1@vks.kz).",
                      "Соединение установлено: 08:30:05"]
    assert ru[4:6] == ["Технический перерыв: 08:30:15 – 08:30:45", "Повторное соединение: 08:30:40 – 08:30:45"]
    assert ru[-2:] == ["Соединение завершено: 09:10:00",
                       "Всего: повторных соединений — 1, технических перерывов — 1"]
    kk = mark_lines(page, "kk")
    assert kk[0] == "Бейнеконференцбайланысты қолдану туралы белгі" and "Байланыс аяқталды: 09:10:00" in kk
    assert "Қайта қосылу: 08:30:40 – 08:30:45" in kk
    # copyable as plain text, printable without the panel around it
    copy = re.search(r'<textarea[^>]*id="mark-text-ru">(.*?)</textarea>', page, re.S).group(1)
    assert copy.splitlines()[-1] == "Всего: повторных соединений — 1, технических перерывов — 1"
    assert "@media print" in client.get("/static/panel.css").get_data(as_text=True)
    assert 'id="protocol-mark"' in client.get("/hearings/H4").get_data(as_text=True)
    assert client.get("/hearings/nope/protocol-mark").status_code == 404
