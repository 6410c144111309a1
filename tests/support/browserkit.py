"""The panel in a real browser: Debian's Chromium driven by Playwright, over the demo bench's
room (``browser``, ``stack``; import both into a test module)."""
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def stack(tmp_path):
    """The demo bench's simulated room, its controller and panel running (a Stack without MQTT)."""
    from vksroom.app import Stack
    from vksroom.hil.demo import DemoBench
    from support.e2ekit import free_port

    with DemoBench(panel_port=free_port(), data_dir=str(tmp_path), mqtt=False) as bench:
        st = Stack(bench.config, mqtt=False).start()
        try:
            assert st.controller.wait_for(lambda r: r.state.value == "ready", 20)
            yield bench, st
        finally:
            st.stop()


def log_in(page, bench, url):
    """Log the demo technician in, then land on ``url`` (the panel's address and a path)."""
    from urllib.parse import quote, urlsplit

    parts = urlsplit(url)
    page.goto(f"{parts.scheme}://{parts.netloc}/login?next={quote(parts.path or '/')}")
    page.fill("input[name=user]", bench.DEMO_USER)
    page.fill("input[name=password]", bench.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url)
