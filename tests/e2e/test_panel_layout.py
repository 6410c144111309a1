"""Every panel page in a real browser (Debian's Chromium), as a phone (360 px) and a desktop
(1280 px) show it, in Kazakh and in Russian: nothing wider than the screen, nothing to press
smaller than 44x44 px, no English word or raw key, and no serious or critical barrier by
axe-core. The demo room serves them with a hearing, an act, a camera and an alarm in it."""
import pytest

from support import pagecheck
from support.panel_tour import CHROMIUM, Tour, chromium, open_page

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]

LANGS = ("kk", "ru")
WIDTHS = (360, 1280)


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    with Tour(tmp_path_factory.mktemp("tour")) as tour:
        yield tour


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def walk(page, tour):
    """(name, page) for every page of the tour, each loaded and its scripts settled."""
    for name, path in tour.pages():
        page.goto(tour.url + path)
        yield name, page


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_page_fits_the_screen_is_touch_ready_and_in_the_language(browser, tour, lang, width):
    page = open_page(browser, tour, lang, width)
    fetched = []
    page.context.on("request", lambda r: fetched.append(r.url))
    tour.test_call(page)                  # the codec page's last test line is a sentence too
    seen, problems = [], {}
    for name, page in walk(page, tour):
        seen.append(name)
        found = {"wider than the screen": pagecheck.too_wide(page),
                 "targets under 44 px": pagecheck.small_targets(page),
                 "untranslated": pagecheck.untranslated(pagecheck.visible_texts(page), tour.data)}
        found = {k: v for k, v in found.items() if v}
        if found:
            problems[name] = found
        assert page.evaluate("document.documentElement.lang") == lang, name
    page.context.close()
    assert {"hearing", "act", "camera", "not-found"} <= set(seen)
    assert tour.stack.controller.lifecycle.connected("tour-1")       # the call was not ended by a look
    assert not problems, problems
    elsewhere = {u for u in fetched if not u.startswith((tour.url + "/", "data:", "blob:"))}
    assert fetched and not elsewhere, elsewhere     # everything from the room's panel: works with no internet
    assert any(u.endswith("/static/favicon.svg") for u in fetched)


@pytest.mark.parametrize("lang", LANGS)
def test_the_login_page_too(browser, tour, lang):
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(f"{tour.url}/login?lang={lang}")
    assert not pagecheck.too_wide(page) and not pagecheck.small_targets(page)
    assert not pagecheck.untranslated(pagecheck.visible_texts(page))
    assert not pagecheck.axe_violations(page)
    context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_no_page_has_a_serious_or_critical_accessibility_violation(browser, tour, lang):
    page = open_page(browser, tour, lang, 360)
    problems = {name: v for name, page in walk(page, tour) if (v := pagecheck.axe_violations(page))}
    page.context.close()
    assert not problems, problems


def test_the_checks_catch_what_they_look_for(browser):
    """The checks above can fail: a page with each defect is caught by each."""
    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.set_content("""<html lang="ru"><body>
      <div style="width: 500px">Состояние зала</div>
      <button style="height: 30px">Сохранить</button>
      <label><input type="checkbox"> Судья</label>
      <p>defendant</p><p>connection.dialling</p><p translate="no">technician</p>
      <img src="data:,">
    </body></html>""")
    assert pagecheck.too_wide(page) == {"scroll": 500 + 8, "viewport": 360}     # and the body's left margin
    assert {t["text"] for t in pagecheck.small_targets(page)} == {"Сохранить", "Судья"}
    assert pagecheck.untranslated(pagecheck.visible_texts(page)) == ["defendant", "connection.dialling"]
    assert "image-alt" in {v["id"] for v in pagecheck.axe_violations(page)}
    page.close()


def test_ending_the_call_is_two_presses_and_each_does_something(browser, tour):
    """The issue's "Завершить связь appears to do nothing" (a required name field elsewhere on the
    page blocked the form): the first press asks, the second ends the call, no name typed, no script.
    Last in the module: it ends the tour's call."""
    life = tour.stack.controller.lifecycle
    context = browser.new_context(viewport={"width": 360, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    tour.login(page, "secretary")                            # ending the call is the secretary's (roles)
    page.goto(f"{tour.url}/hearings/tour-1?lang=ru")
    assert page.locator("input[name=who]").count() == 0
    page.click("#end")
    assert "Завершить связь с дальней стороной по делу 7199-25-00-1/230?" in page.inner_text("h1")
    assert life.connected("tour-1")                          # asked, not done
    page.click("#confirm-yes")
    page.wait_for_url(f"{tour.url}/hearings/tour-1")
    assert not life.connected("tour-1")
    [ended] = [r for r in life.record("tour-1") if r["event"] == "hearing.ended"]
    assert ended["who"] == tour.bench.DEMO_NAMES["secretary"]   # signed by who is logged in, by name
    assert "Заседание окончено" in page.inner_text("#record")
    context.close()
