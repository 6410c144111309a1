"""The panel in a real browser (Debian's Chromium, driven by Playwright): what the
technician sees and presses, on a phone-sized screen."""
import pytest

from support.browserkit import browser, log_in, needs_chromium, stack  # noqa: F401  (fixtures)
from support.e2ekit import free_port, https_demo

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
    assert bench.DEMO_NAMES[bench.DEMO_USER] in page.inner_text("header")      # the name people read
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


@pytest.fixture
def other_site():
    """A page on another port of 127.0.0.1 (same site, another origin): ``serve(html)`` -> its URL."""
    import http.server
    import threading

    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, name="other-site", daemon=True)
    thread.start()

    def serve(html: str) -> str:
        pages["/evil.html"] = html
        return f"http://127.0.0.1:{server.server_port}/evil.html"

    yield serve
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_form_on_another_port_cannot_post_as_the_logged_in_technician(browser, stack, other_site):
    bench, st = stack
    page = browser.new_page()
    log_in(page, bench, st.panel_url)
    runs = len(st.controller.store.runs(100))

    evil = other_site(f"""<!doctype html><form id="f" method="post" action="{st.panel_url}selftest">
        <input name="csrf_token" value="guessed"></form><script>document.getElementById("f").submit()</script>""")
    with page.expect_response(st.panel_url + "selftest") as answer:
        page.goto(evil)
    assert answer.value.status == 403
    page.wait_for_load_state()
    assert "Отклонено: запрос пришёл с другого сайта" in page.inner_text("main")   # in the panel's words
    audit = st.controller.store.panel_audit(1)[0]
    assert (audit["path"], audit["status"], audit["user"]) == ("/selftest", 403, bench.DEMO_USER)  # cookie was sent
    assert len(st.controller.store.runs(100)) == runs   # no self-test ran
    assert st.controller.readiness().activity == ""

    framed = other_site(f'<!doctype html><iframe id="panel" src="{st.panel_url}hearings"></iframe>')
    page.goto(framed)                                   # nor can it show the panel under a decoy to click
    page.wait_for_load_state()
    assert not any(f.url.startswith(st.panel_url) and f.query_selector("form") for f in page.frames[1:])

    page.goto(st.panel_url)                             # the panel's own script posts with its token
    status = page.evaluate("""fetch("/selftest", {method: "POST", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.status; })""")
    assert status == 202


def test_over_https_the_technician_logs_in_and_acts(browser, tmp_path):
    with https_demo(str(tmp_path)) as (bench, st):
        assert st.controller.wait_for(lambda r: r.state.value == "ready", 20)
        context = browser.new_context(ignore_https_errors=True)   # the room's own certificate
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{st.cfg.panel.redirect_port}/login")   # typed without https
        assert page.url == st.panel_url + "login"
        page.fill("input[name=user]", bench.DEMO_USER)
        page.fill("input[name=password]", bench.DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(st.panel_url)
        [cookie] = [c for c in context.cookies() if c["name"] == "session"]
        assert cookie["secure"] and cookie["httpOnly"]
        page.click("#selftest-button")          # the form's token and the browser's Referer pass over TLS
        page.wait_for_function("document.getElementById('room-state').dataset.state === 'testing'", timeout=5000)
        context.close()
