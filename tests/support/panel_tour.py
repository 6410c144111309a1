"""A tour of every panel page over the demo room, in a real browser (Debian's Chromium driven
by Playwright): the browser tests walk it, and it makes the README's screenshots.

    .venv/bin/python tests/support/panel_tour.py docs/screenshots     # 360 px, ru and kk

The room is the demo bench (two cameras, a codec, microphones) with a far side, a hearing two
hours away with a recorded test session and an act, the hall camera gone silent (its alarm on
every page's banner), the far side connected, and the demo technician logged in.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sys
import threading
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As tests/e2e/test_panel_browser.py launches it: headless, offline from Google's services.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 г. Астаны", "number": "sizo-1"}
HEARING = "tour-1"

# (name, path): every page a court employee opens. Filled in by :func:`pages` with the act's id.
PAGES = (
    ("room", "/"),
    ("hearings", "/hearings"),
    ("hearing", f"/hearings/{HEARING}"),
    ("act", "/acts/{act}"),
    ("cancel", f"/hearings/{HEARING}/cancel"),
    ("end", f"/hearings/{HEARING}/end"),
    ("cameras", "/cameras"),
    ("camera", "/camera/cam_judge"),
    ("camera-store", "/camera/cam_judge/store/judge"),
    ("video", "/video"),
    ("audio", "/audio/"),
    ("codec", "/codec/"),
    ("not-found", "/no-such-page"),
)


class Tour:
    """The demo room running with its panel, a hearing and an act in it."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Tour":
        from vksroom.app import Stack
        from vksroom.hil.demo import DemoBench

        from support.e2ekit import free_port

        try:
            self.bench = self._stack.enter_context(
                DemoBench(panel_port=free_port(), data_dir=str(self.data_dir), mqtt=False))
            self.stack = Stack(self.bench.config, mqtt=False).start()
            self._stack.callback(self.stack.stop)
            c = self.stack.controller
            assert c.wait_for(lambda r: r.state.value == "ready", 30), c.readiness()
            c.command("farside.set", SIZO)
            start = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) + dt.timedelta(hours=2)
            c.command("hearing.create", {"id": HEARING, "version": 1, "case_number": "7199-25-00-1/230",
                                         "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "far_side": SIZO["id"],
                                         "roles": ["judge", "defendant"]})
            life = c.lifecycle
            technician = self.bench.DEMO_NAMES["technician"]     # as the panel signs for that login
            life.record_test_session(HEARING, technician, "passed", "")
            self.act = life.draw_up_act(HEARING, technician, "Отключение электроэнергии в здании суда")["id"]
            # the secretary connects (the record has rows, the page offers "end the call"), then the
            # hall camera stops answering: its fault is on every page's banner
            connected, raised = threading.Event(), threading.Event()

            def follow(e):
                if e.kind == "hearing.connection":
                    connected.set()
                if e.kind == "alarm.raised" and "cam_hall" in e.data["alarm"]["key"]:
                    raised.set()
            self._stack.callback(c.events.subscribe(follow))
            life.connect(HEARING, self.bench.DEMO_NAMES["secretary"])
            assert connected.wait(30) and life.connected(HEARING), life.record(HEARING)
            self.bench.cameras["cam_hall"].stop()
            assert raised.wait(30), life.alarms()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc):
        self._stack.close()

    @property
    def url(self) -> str:
        return self.stack.panel_url.rstrip("/")

    @property
    def data(self) -> tuple[str, ...]:
        """What the room was given, not words of the panel: names and numbers shown as they are (the
        users are shown by their Cyrillic display names, so their Latin logins are not among these)."""
        return (SIZO["number"],)

    def test_call(self, page) -> None:
        """A test call from the codec page, waited for until its last line says how it went."""
        page.goto(self.url + "/codec/")
        page.click("form.test-call button")
        page.wait_for_function("(t => t !== '' && !t.endsWith('…'))"
                               "(document.querySelector('table[id^=codec-] .test').textContent.trim())", timeout=30000)

    def pages(self) -> list[tuple[str, str]]:
        return [(name, path.format(act=self.act)) for name, path in PAGES]

    def login(self, page, user: str | None = None) -> None:
        """Log in as the demo technician, or as another of the demo's users (one per role)."""
        page.goto(self.url + "/login")
        page.fill("input[name=user]", user or self.bench.DEMO_USER)
        page.fill("input[name=password]", self.bench.DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(self.url + "/")


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, tour: Tour, lang: str, width: int):
    """A logged-in page of ``width`` CSS px in ``lang`` (the panel's language cookie)."""
    context = browser.new_context(viewport={"width": width, "height": 800}, locale=lang)
    host = tour.url.split("://")[1].split(":")[0]
    context.add_cookies([{"name": "lang", "value": lang, "domain": host, "path": "/"}])
    page = context.new_page()
    tour.login(page)
    return page


# The README's screenshots: (page, languages).
SHOTS = (("room", ("ru", "kk")), ("hearings", ("ru",)), ("hearing", ("ru", "kk")), ("act", ("ru",)),
         ("camera", ("ru",)), ("video", ("kk",)), ("audio", ("ru",)), ("codec", ("kk",)), ("end", ("ru",)))


def screenshots(folder: Path, width: int = 360) -> list[Path]:
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    made = []
    with tempfile.TemporaryDirectory() as tmp, Tour(Path(tmp)) as tour, chromium() as browser:
        paths = dict(tour.pages())
        for lang in ("ru", "kk"):
            page = open_page(browser, tour, lang, width)
            tour.test_call(page)
            for name, langs in SHOTS:
                if lang not in langs:
                    continue
                page.goto(tour.url + paths[name])
                out = folder / f"{name}-{lang}.png"
                page.screenshot(path=str(out), full_page=True)
                made.append(out)
            page.context.close()
    return made


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/, for `support`
    for path in screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
