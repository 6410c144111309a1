"""The panel in a real browser (Debian's Chromium, driven by Playwright): what the
technician sees and presses, on a phone-sized screen."""
import pytest

from support.browserkit import browser, needs_chromium, stack  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.timeout(120), needs_chromium]


def test_technician_runs_a_selftest_and_watches_a_camera_drop_out(browser, stack, tmp_path):
    bench, st = stack
    page = browser.new_page(viewport={"width": 480, "height": 800})   # a small touch screen
    page.goto(st.panel_url)
    assert page.inner_text("#room-state-text") == "Готов"   # anyone may read the room's state

    page.click("#selftest-button")                           # acting needs a login first
    page.wait_for_url("**/login**")
    page.fill("input[name=user]", bench.DEMO_USER)
    page.fill("input[name=password]", bench.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(st.panel_url)
    assert bench.DEMO_USER in page.inner_text("header")
    page.click("#selftest-button")
    page.wait_for_function("document.getElementById('room-state').dataset.state === 'testing'", timeout=5000)
    page.wait_for_function("document.getElementById('room-state').dataset.state === 'ready'", timeout=40000)
    assert st.controller.store.runs(1)[0]["trigger"] == "panel"

    page.click("text=Қазақша")
    assert page.inner_text("#room-state-text") == "Дайын"

    bench.cameras["cam_hall"].stop()
    # No reload: the page follows the room by itself.
    page.wait_for_function("document.getElementById('room-state').dataset.state === 'degraded'", timeout=10000)
    row = page.locator("#dev-cam_hall")
    assert row.get_attribute("data-health") == "fault"
    assert "Зал камерасы жауап бермейді" in row.inner_text()   # "the hall camera does not answer", in Kazakh
    page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)
