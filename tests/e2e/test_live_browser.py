"""Live pages in a real browser: a self-test's per-device progress and a call's state appear
on an open page without a reload (static/live.js), over the demo bench's simulated room."""
import datetime as dt

import pytest

from support.browserkit import browser, log_in, needs_chromium, stack  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.timeout(120), needs_chromium]

SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 г. Астаны", "number": "sizo1@vks.kz"}


def not_reloaded(page):
    return page.evaluate("window.__kept === true")


def test_a_self_test_and_a_call_appear_on_open_pages_without_a_reload(browser, stack):
    bench, st = stack
    page = browser.new_page(viewport={"width": 360, "height": 800})
    log_in(page, bench, st.panel_url)
    page.evaluate("window.__kept = true")           # gone if the page were loaded again
    assert page.locator("#selftest-live").count() == 0

    st.controller.run_selftest("panel")             # started elsewhere (MQTT, the planner)
    page.wait_for_selector("#selftest-live li[data-progress]", timeout=10000)
    devices = page.eval_on_selector_all("#selftest-live li[data-progress]", "els => els.map(e => e.dataset.device)")
    assert sorted(devices) == ["cam_hall", "cam_judge", "codec", "dsp"]
    assert page.locator("#selftest-bar").count() == 1                      # a progress bar on long work
    assert "Самопроверка: проверено" in page.inner_text("#selftest-progress-text")
    page.wait_for_function("!document.getElementById('selftest-live')", timeout=40000)
    assert not_reloaded(page)

    life = st.controller.lifecycle
    st.controller.command("farside.set", SIZO)
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(minutes=40)
    st.controller.command("hearing.create", {"id": "H1", "version": 1, "case_number": "7199-25-00-1/230",
                                             "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "far_side": "sizo-1"})
    page.goto(st.panel_url.rstrip("/") + "/hearings/H1")
    page.evaluate("window.__kept = true")
    assert page.get_attribute("#call-state", "data-call") == "none"
    life.connect("H1", "Жанова")                    # the secretary presses "connect" on another screen
    page.wait_for_selector("#call-state[data-call=dialling]", timeout=5000)
    assert "Вызов «СИЗО-1 г. Астаны»" in page.inner_text("#call-state")
    page.wait_for_selector("#call-state[data-call=connected]", timeout=20000)
    assert page.inner_text("#call-state") == "Связь с «СИЗО-1 г. Астаны» установлена"
    page.wait_for_selector("#guide-status[data-code='guide.status.in_hearing']", timeout=5000)
    page.wait_for_selector("#reconnect", timeout=5000)            # the call's buttons follow too
    assert not_reloaded(page)


def test_the_camera_page_picture_is_live_and_its_verdict_is_said_beside_it(browser, stack):
    bench, st = stack
    page = browser.new_page(viewport={"width": 360, "height": 800})
    url = st.panel_url.rstrip("/") + "/camera/cam_judge"
    log_in(page, bench, url)
    page.evaluate("window.__kept = true")
    page.wait_for_function("Number(document.getElementById('camera-picture').dataset.loaded || 0) >= 2",
                           timeout=15000)                      # loaded again by itself
    assert page.evaluate("document.getElementById('camera-picture').naturalWidth") > 0
    page.wait_for_selector("#camera-verdict [data-verdict=ok]", timeout=10000)
    assert page.inner_text("#camera-verdict [data-verdict]") == "ИСПРАВНО"
    # The demo room stores no references: the verdict says so and offers to store one, touch-sized.
    assert page.inner_text("#camera-verdict [data-basis=none]") == "Оценено без эталона: сохраните эталон для этой позиции"
    link = page.locator("#camera-verdict #store-reference").bounding_box()
    assert link and link["height"] >= 44 and link["x"] + link["width"] <= 360
    assert not_reloaded(page)
