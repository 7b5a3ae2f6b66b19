"""Answer -> HTML: everything escaped, only http(s) links, sources and disclaimer always shown."""

from __future__ import annotations

from bot.types import Answer
from web.render import render_answer


def test_render_escapes_source_html_and_drops_script_links(scripted_answer: Answer) -> None:
    html = render_answer(scripted_answer)
    assert "<img" not in html and "&lt;img src=x onerror=" in html
    assert "javascript:" not in html
    assert 'href="https://example.org/article"' in html
    assert "unverified reference" in html and scripted_answer.disclaimer in html
    assert html.count("<details>") == 2


def test_streamed_prefix_has_no_sources_yet(scripted_answer: Answer) -> None:
    partial = render_answer(scripted_answer, "Ketamine infusions")
    assert "Sources" not in partial and "Ketamine infusions" in partial
