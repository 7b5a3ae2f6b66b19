"""The chat page and the widget in Debian's chromium, against a live server."""

from __future__ import annotations

import functools
import http.server
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from stand_in_http import serve

from bot import prompts

pytestmark = pytest.mark.browser
XSS = '<img src=x onerror="window.__pwned=1">'
LiveServer = Any


DOCS = Path(__file__).resolve().parents[2] / "docs"


HOST_PAGE = (
    "<!doctype html><html><head>"
    '<meta name=viewport content="width=device-width, initial-scale=1">'
    "<style>body{background:rgb(250,240,230);font-family:serif}"
    "button{color:rgb(255,0,0)}</style></head><body><h1>Clinic</h1><button id=own>Own</button>"
    '<script src="{app}/widget.js" data-title="Ask about ketamine" data-color="#0b6e4f" '
    'data-position="right" data-greeting="Hello from the clinic." async></script></body></html>'
)


def host_page(folder: Path, server: LiveServer, base: str) -> str:
    """The clinic's page with the embed snippet, as the folder served at ``base`` holds it."""
    (folder / "index.html").write_text(HOST_PAGE.replace("{app}", server.url))
    return f"{base}/index.html"


@contextmanager
def other_site(tmp: Path, server: LiveServer) -> Iterator[str]:
    """The same page on an origin the app does not allow."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp))
    with serve(handler) as base:
        yield host_page(tmp, server, base)


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
    # [1] is the ketamine guideline: its passage is a summary, and the page says so.
    note = answer.locator(".pb-source").first.locator(".pb-passage-note")
    assert note.is_visible() and "written for this project" in note.inner_text()
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


def test_widget_on_allowed_host_page(
    browser: Any, live_server: LiveServer, clinic_site: tuple[Path, str]
) -> None:
    folder, base = clinic_site
    url = host_page(folder, live_server, base)
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(url)
    before = page.evaluate(
        "[getComputedStyle(document.body).backgroundColor,"
        "getComputedStyle(document.getElementById('own')).color]"
    )
    page.locator("[data-painbot]").locator(".btn").click()
    frame = page.frame_locator("[data-painbot] iframe")
    frame.get_by_text("Hello from the clinic.").wait_for(timeout=10_000)
    frame.get_by_label("Your question").fill("What side effects can ketamine infusions cause?")
    frame.get_by_role("button", name="Ask").click()
    frame.locator(".pb-disc").last.wait_for(timeout=20_000)
    assert frame.locator(".pb-sources li").count() >= 1
    # Inside a closed <details>: text_content, not the (empty) rendered inner_text.
    assert "written for this project" in frame.locator(".pb-passage-note").first.text_content()
    after = page.evaluate(
        "[getComputedStyle(document.body).backgroundColor,"
        "getComputedStyle(document.getElementById('own')).color]"
    )
    assert before == after == ["rgb(250, 240, 230)", "rgb(255, 0, 0)"]
    page.screenshot(path=str(DOCS / "widget.png"))
    page.close()


def test_widget_leads_a_what_is_answer_with_words_to_know(
    browser: Any, live_server: LiveServer, clinic_site: tuple[Path, str]
) -> None:
    folder, base = clinic_site
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(host_page(folder, live_server, base))
    page.locator("[data-painbot]").locator(".btn").click()
    frame = page.frame_locator("[data-painbot] iframe")
    frame.get_by_label("Your question").fill("What is CRPS?")
    frame.get_by_role("button", name="Ask").click()
    frame.locator(".pb-disc").last.wait_for(timeout=20_000)
    words_before_findings = frame.locator(".pb-msg.pb-bot").last.evaluate(
        "m => { const w = m.querySelector('.pb-words'), h = m.querySelector('.pb-heading');"
        " return !!(w && h && (w.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING)); }"
    )
    assert words_before_findings
    assert frame.locator(".pb-words li strong").first.inner_text() == "CRPS"
    page.close()


def test_widget_blocked_on_other_origin(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    with other_site(tmp_path, live_server) as url:
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
    browser: Any, live_server: LiveServer, clinic_site: tuple[Path, str]
) -> None:
    folder, base = clinic_site
    url = host_page(folder, live_server, base)
    page = browser.new_page()
    page.goto(url)
    page.locator("[data-painbot]").locator(".btn").wait_for()
    page.route(f"{live_server.url}/**", lambda route: route.abort())
    page.locator("[data-painbot]").locator(".btn").click()
    page.locator("[data-painbot]").get_by_text("not available right now").wait_for(timeout=5000)
    page.close()


def test_answer_points_headings_and_citation_links(browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(live_server.url + "/")
    page.get_by_label("Your question").fill("Does ketamine help fibromyalgia?")
    page.keyboard.press("Enter")
    answer = page.locator(".pb-answer").last
    answer.locator(".pb-disclaimer").wait_for(timeout=30_000)
    headings = answer.locator(".pb-heading strong").all_inner_texts()
    # The plain-language lead first, then the quoted sentences by whose statement they are.
    assert headings[:2] == [prompts.LEAD_PLAIN, prompts.LEAD_VERIFIED], headings
    assert answer.locator(".pb-points li").count() >= 2
    assert "- " not in answer.locator(".pb-points").first.inner_text()[:2]
    cite = answer.locator(".pb-points .pb-cite").first
    target = cite.get_attribute("href")
    assert target and target.startswith("#pb-src-")
    assert answer.locator(target).count() == 1  # the [n] mark points at its source entry
    page.close()


def test_keyboard_only_chat(browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(live_server.url + "/")
    box = page.get_by_label("Your question")
    box.wait_for()
    for _ in range(40):  # Tab from the top of the page until the question box has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.tagName") == "TEXTAREA":
            break
    assert page.evaluate("document.activeElement.closest('#pb-question') !== null")
    page.keyboard.type("What is ketamine?")
    page.keyboard.press("Enter")
    page.locator(".pb-answer .pb-disclaimer").first.wait_for(timeout=30_000)
    # Every button can be named by a screen reader.
    unnamed = page.evaluate(
        "[...document.querySelectorAll('button')].filter(b => b.offsetParent !== null && "
        "!(b.innerText.trim() || b.getAttribute('aria-label') || b.title)).length"
    )
    assert unnamed == 0
    page.close()


def test_thumbs_down_is_stored(browser: Any, live_server: LiveServer) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(live_server.url + "/")
    page.get_by_label("Your question").fill("Is psilocybin used for chronic pain?")
    page.keyboard.press("Enter")
    page.locator(".pb-answer .pb-disclaimer").first.wait_for(timeout=30_000)
    db = live_server.settings.feedback_db  # type: ignore[attr-defined]
    before = (
        sqlite3.connect(db).execute("SELECT COUNT(*) FROM feedback WHERE rating = -1").fetchone()
    )
    page.get_by_role("button", name="Dislike", exact=True).first.click()
    for _ in range(50):
        after = (
            sqlite3.connect(db)
            .execute("SELECT COUNT(*) FROM feedback WHERE rating = -1")
            .fetchone()
        )
        if after[0] > before[0]:
            break
        page.wait_for_timeout(100)
    assert after[0] == before[0] + 1
    columns = [r[1] for r in sqlite3.connect(db).execute("PRAGMA table_info(feedback)")]
    assert not any(c == "ip" or "addr" in c or "question" in c for c in columns)
    page.close()


def test_widget_keyboard_and_phone(
    browser: Any, live_server: LiveServer, clinic_site: tuple[Path, str]
) -> None:
    folder, base = clinic_site
    url = host_page(folder, live_server, base)
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(url)
    widget = page.locator("[data-painbot]")
    widget.locator(".btn").wait_for()
    widget.locator(".btn").focus()
    page.keyboard.press("Enter")
    frame = page.frame_locator("[data-painbot] iframe")
    frame.get_by_label("Your question").wait_for(timeout=10_000)
    box = widget.locator(".panel").bounding_box()
    assert box and box["width"] >= 380 and box["height"] >= 800  # full screen on a phone
    assert frame.locator("#pb-log").get_attribute("role") == "log"
    assert frame.locator("#pb-log").get_attribute("aria-live") == "polite"
    frame.get_by_label("Your question").fill("Who wrote this article?")
    frame.get_by_label("Your question").press("Enter")
    frame.locator(".pb-disc").last.wait_for(timeout=20_000)
    assert frame.locator(".pb-points li").count() >= 1
    page.keyboard.press("Escape")
    assert widget.locator(".btn").get_attribute("aria-expanded") == "false"
    page.close()


def test_html_in_sources_is_shown_as_text(browser: Any, scripted_server: LiveServer) -> None:
    for path, box_label, done in (
        ("/", "Your question", ".pb-answer .pb-disclaimer"),
        ("/widget", "Your question", ".pb-disc"),
    ):
        page = browser.new_page()
        page.goto(scripted_server.url + path)
        page.get_by_label(box_label).fill("<script>window.__pwned=2</script> hi")
        page.keyboard.press("Enter")
        page.locator(done).first.wait_for(timeout=20_000)
        page.locator("summary").first.click()
        text = page.locator("body").inner_text()
        assert '<img src=x onerror="window.__pwned=1">' in text
        assert page.evaluate("window.__pwned") is None
        assert page.locator("img[src=x]").count() == 0
        assert page.locator('a[href^="javascript"]').count() == 0
        page.close()
