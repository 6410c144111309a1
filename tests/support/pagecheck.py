"""What a court employee would notice on a panel page, measured in the browser (Playwright):
a page wider than the screen, a target too small for a finger, words not in the page's
language (English, raw keys), and what axe-core rates a serious or critical barrier."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

MIN_TARGET = 44          # CSS px, each side (WCAG 2.5.5, the rule)
AXE = Path(__file__).parent / "axe" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"   # axe-core 4.10.3

# Latin words a kk/ru page may show: formats and units, not English sentences.
LATIN_ALLOWED = {"PDF", "CSV", "JSON", "dBFS", "UTC"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# a catalogue key or record code shown raw: lower-case words joined by dots (state.ready, connection.dialling)
RAW_KEY = re.compile(r"\b[a-z_]{2,}(?:\.[a-z_]{2,})+\b")

_WIDTH_JS = """() => ({scroll: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
                       viewport: window.innerWidth})"""

# Every visible thing one can press or type into, with its box: a checkbox or a radio button is
# pressed through its label, so the label is what is measured.
_TARGETS_JS = """() => {
  const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex="-1"])';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    let box = el;
    if (el.matches('input[type=checkbox], input[type=radio]') && el.closest('label')) box = el.closest('label');
    const r = box.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    out.push({tag: el.tagName.toLowerCase(), text: (box.innerText || el.value || el.name || el.getAttribute('aria-label') || '').trim().slice(0, 40),
              width: Math.round(r.width * 10) / 10, height: Math.round(r.height * 10) / 10});
  }
  return out;
}"""

# The words people read: rendered text outside translate="no" (names, numbers, language names),
# and the words a screen reader or a closed list says (title, labels, placeholders, options).
_WORDS_JS = """() => {
  const texts = [document.title];
  const skip = n => n.closest('[translate=no], script, style, noscript');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || skip(el)) continue;
    if (el.tagName === 'OPTION' || el.checkVisibility({checkVisibilityCSS: true})) texts.push(n.textContent.trim());
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], img[alt]')) {
    if (skip(el)) continue;
    for (const a of ['placeholder', 'aria-label', 'title', 'alt']) if (el.getAttribute(a)) texts.push(el.getAttribute(a));
  }
  return texts;
}"""


def too_wide(page) -> dict | None:
    """The page's width against the screen's, when the page is wider (it scrolls sideways)."""
    w = page.evaluate(_WIDTH_JS)
    return w if w["scroll"] > w["viewport"] else None


def small_targets(page) -> list[dict]:
    return [t for t in page.evaluate(_TARGETS_JS) if t["width"] < MIN_TARGET - 0.5 or t["height"] < MIN_TARGET - 0.5]


def visible_texts(page) -> list[str]:
    return page.evaluate(_WORDS_JS)


def untranslated(texts: list[str], data: tuple[str, ...] = ()) -> list[str]:
    """The pieces of a kk/ru page that are English words or raw keys. ``data``: what the room was
    given and shows as it is (a far side's number, a user's login), not counted as words."""
    bad = []
    for text in texts:
        for value in data:
            text = text.replace(value, "")
        words = [w for w in LATIN_WORD.findall(text) if w not in LATIN_ALLOWED]
        if words or RAW_KEY.search(text):
            bad.append(text)
    return bad


def axe_script() -> str:
    data = AXE.read_bytes()
    assert hashlib.sha256(data).hexdigest() == AXE_SHA256, f"{AXE} is not the vendored axe-core (see its README)"
    return data.decode("utf-8")


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's WCAG 2.x A/AA rules over the page: each violation of these impacts, with its nodes."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_script())
    result = page.evaluate("""() => axe.run(document, {resultTypes: ['violations'],
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in impacts]
