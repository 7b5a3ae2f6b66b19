"""Answer -> HTML: everything escaped, only http(s) links, sources and disclaimer always shown."""

from __future__ import annotations

import re

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
    partial = render_answer(scripted_answer, 1)
    assert "Sources" not in partial and "Ketamine infusions" in partial
    assert "small trials" not in partial


def test_points_are_a_list_with_bold_headings_and_linked_citations(
    scripted_answer: Answer,
) -> None:
    html = render_answer(scripted_answer)
    assert "<strong>What the checked sources say:</strong>" in html
    assert html.count("<li>") == 2 and "- Ketamine" not in html
    anchor = re.search(r'href="#(pb-src-[^"]+-2)"', html)
    assert anchor and f'id="{anchor.group(1)}"' in html
    assert html.count("<img") == 0


def test_article_and_partly_verified_sources_say_what_they_are(
    scripted_answer: Answer,
) -> None:
    from dataclasses import replace

    article = replace(scripted_answer.citations[0], kind="article", verified=False, verification="")
    partly = replace(
        scripted_answer.citations[0], verification="partly verified from public listings"
    )
    html = render_answer(replace(scripted_answer, citations=(article, partly)))
    assert "the article: its author" in html and "not verified" not in html
    assert "(partly verified from public listings)" in html


def test_passage_says_whose_words_it_is(scripted_answer: Answer) -> None:
    from dataclasses import replace

    from bot import prompts

    summary = replace(
        scripted_answer.citations[0], passage_note=prompts.SUMMARY_PASSAGE_NOTE + " <b>x</b>"
    )
    html = render_answer(replace(scripted_answer, citations=(summary,)))
    note = html.index('class="pb-passage-note"')
    assert html.index("<summary>") < note < html.index("<blockquote>")
    assert "They are not the paper" in html and "&lt;b&gt;x&lt;/b&gt;" in html
