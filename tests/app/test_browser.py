"""The chat page and the widget in Debian's chromium, against a live server."""

from __future__ import annotations

import functools
import http.server
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
XSS = '<img src=x onerror="window.__pwned=1">'
LiveServer = Any


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(
            "Debian's chromium is missing: run `apt-get install -y chromium` (make browser)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def host_page(tmp: Path, server: LiveServer, port: int) -> Iterator[str]:
    (tmp / "index.html").write_text(
        "<!doctype html><html><head><style>body{background:rgb(250,240,230);font-family:serif}"
        "button{color:rgb(255,0,0)}</style></head><body><h1>Clinic</h1><button id=own>Own</button>"
        f'<script src="{server.url}/widget.js" data-title="Ask about ketamine" '
        'data-color="#0b6e4f" '
        'data-position="right" data-greeting="Hello from the clinic." async></script></body></html>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}/index.html"
    finally:
        httpd.shutdown()


def test_chat_page_answer_citations_disclaimer_and_xss(
    browser: Any, live_server: LiveServer
) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(live_server.url + "/")
    box = page.get_by_label("Your question")
    box.fill(XSS)
    page.keyboard.press("Enter")
    page.locator(".pb-answer .pb-disclaimer").first.wait_for(timeout=30_000)
    assert XSS in page.locator("#pb-chat").inner_text()  # question shown as text
    assert page.evaluate("window.__pwned") is None
    box.fill("What side effects can ketamine infusions cause?")
    page.keyboard.press("Enter")
    page.locator(".pb-answer .pb-disclaimer").nth(1).wait_for(timeout=30_000)
    answer = page.locator(".pb-answer").nth(1)
    assert "[1]" in answer.inner_text()
    assert answer.locator(".pb-source").count() >= 1
    assert answer.locator(".pb-source a").first.get_attribute("href").startswith("http")
    answer.locator("summary").first.click()
    assert answer.locator("blockquote").first.is_visible()
    assert page.get_by_text("not medical advice").first.is_visible()
    assert page.evaluate("window.__pwned") is None
    answer.evaluate("node => node.scrollIntoView()")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(DOCS / "chat.png"), full_page=True)
    page.close()


def test_example_question_and_feedback_stored(browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844})  # phone width
    page.goto(live_server.url + "/")
    page.locator(".pb-example").first.click()
    page.locator(".pb-answer .pb-disclaimer").first.wait_for(timeout=20_000)
    assert "What is ketamine" in page.locator("#pb-chat").inner_text()
    page.get_by_role("button", name="Like", exact=True).first.click()
    db = live_server.settings.feedback_db  # type: ignore[attr-defined]
    for _ in range(50):
        rows = sqlite3.connect(db).execute("SELECT rating, verdict FROM feedback").fetchall()
        if rows:
            break
        page.wait_for_timeout(100)
    assert (1, "answered") in rows
    page.close()


def test_widget_on_allowed_host_page(browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    for url in host_page(tmp_path, live_server, live_server.port + 1):
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.goto(url)
        before = page.evaluate(
            "[getComputedStyle(document.body).backgroundColor,"
            "getComputedStyle(document.getElementById('own')).color]"
        )
        page.locator("[data-painbot]").locator(".btn").click()
        frame = page.frame_locator("[data-painbot] iframe")
        frame.get_by_text("Hello from the clinic.").wait_for(timeout=10_000)
        frame.get_by_label("Your question").fill("What is ketamine?")
        frame.get_by_role("button", name="Ask").click()
        frame.locator(".pb-disc").last.wait_for(timeout=20_000)
        assert frame.locator(".pb-sources li").count() >= 1
        after = page.evaluate(
            "[getComputedStyle(document.body).backgroundColor,"
            "getComputedStyle(document.getElementById('own')).color]"
        )
        assert before == after == ["rgb(250, 240, 230)", "rgb(255, 0, 0)"]
        page.screenshot(path=str(DOCS / "widget.png"))
        page.close()


def test_widget_blocked_on_other_origin(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    for url in host_page(tmp_path, live_server, free_port()):
        page = browser.new_page()
        page.goto(url)
        page.locator("[data-painbot]").locator(".btn").click()
        page.wait_for_timeout(1500)
        frames = [f for f in page.frames if "/widget" in f.url]
        loaded = (
            [f for f in frames if f.evaluate("!!document.getElementById('pb-q')")] if frames else []
        )
        assert loaded == []
        page.close()


def test_widget_quiet_when_server_down(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    for url in host_page(tmp_path, live_server, live_server.port + 1):
        page = browser.new_page()
        page.goto(url)
        page.locator("[data-painbot]").locator(".btn").wait_for()
        page.route(f"{live_server.url}/**", lambda route: route.abort())
        page.locator("[data-painbot]").locator(".btn").click()
        page.locator("[data-painbot]").get_by_text("not available right now").wait_for(timeout=5000)
        page.close()
