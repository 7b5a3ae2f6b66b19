"""axe-core in the real browser: the chat page and the widget after an answer with an opened
passage have no violations of the WCAG 2.0, 2.1 and 2.2 A and AA rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.base import AXE_SCRIPT  # axe-core's axe.min.js, shipped on PyPI

pytestmark = pytest.mark.browser
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
QUESTION = "What side effects can ketamine infusions cause?"
HOST = (
    "<!doctype html><html lang=en><head><title>Clinic</title>"
    '<meta name=viewport content="width=device-width, initial-scale=1"></head>'
    "<body><main><h1>Clinic</h1><p>Our services.</p></main>"
    '<script src="{app}/widget.js" data-title="Ask about ketamine" async></script></body></html>'
)


def violations(target: Any) -> list[str]:
    """axe's violations of the WCAG A/AA rules in a page or frame, one line each."""
    target.evaluate(AXE_SCRIPT)
    result = target.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations'], iframes: false})",
        TAGS,
    )
    return [
        f"{v['id']} ({v['impact']}) at {node['target']}: {node['failureSummary']}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


def test_chat_page_after_an_answer_with_an_opened_passage(browser: Any, live_server: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    page.get_by_label("Your question").fill(QUESTION)
    page.keyboard.press("Enter")
    answer = page.locator(".pb-answer").first
    answer.locator(".pb-disclaimer").wait_for(timeout=30_000)
    answer.locator("summary").first.click()
    assert answer.locator("blockquote").first.is_visible()
    page.wait_for_timeout(300)  # Gradio's own transitions settle
    assert violations(page) == []
    page.close()


@pytest.mark.parametrize(
    "viewport",
    [
        {"width": 390, "height": 844, "is_mobile": True, "has_touch": True},
        {"width": 1280, "height": 900},
    ],
    ids=["phone", "desktop"],
)
def test_widget_after_an_answer_with_an_opened_passage(
    browser: Any, live_server: Any, clinic_site: tuple[Path, str], viewport: dict[str, Any]
) -> None:
    folder, base = clinic_site
    (folder / "axe.html").write_text(HOST.replace("{app}", live_server.url))
    size = {"width": viewport["width"], "height": viewport["height"]}
    context = browser.new_context(
        viewport=size,
        is_mobile=viewport.get("is_mobile", False),
        has_touch=viewport.get("has_touch", False),
    )
    page = context.new_page()
    page.goto(f"{base}/axe.html")
    page.locator("[data-painbot]").locator(".btn").click()
    frame = page.frame_locator("[data-painbot] iframe")
    frame.get_by_label("Your question").fill(QUESTION)
    frame.get_by_role("button", name="Ask").click()
    frame.locator(".pb-disc").first.wait_for(timeout=30_000)
    frame.locator("summary").first.click()
    assert frame.locator("blockquote").first.is_visible()
    widget = next(f for f in page.frames if "/widget" in f.url)
    assert violations(widget) == []
    assert violations(page) == []  # the button and panel the snippet adds to the clinic's page
    context.close()
