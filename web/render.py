"""Render an Answer as safe HTML for the chat page: every piece of text is escaped."""

from __future__ import annotations

from html import escape

from bot import prompts
from bot.types import Answer, Citation, GlossaryEntry, PlainPoint


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def render_citation(citation: Citation, anchor: str) -> str:
    label = escape(citation.label or citation.title)
    url = _safe_url(citation.url)
    link = (
        f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{label}</a>'
        if url
        else label
    )
    if citation.kind == "article":
        status = ' <span class="pb-kind">(the article: its author\'s views)</span>'
    elif citation.verified and not citation.verification.startswith("partly"):
        status = ""
    else:
        status = (
            ' <span class="pb-unverified">'
            f"({escape(citation.verification or 'not verified')})</span>"
        )
    if citation.reviewed:
        status += f' <span class="pb-reviewed">Last reviewed {escape(citation.reviewed)}.</span>'
    note = (
        f'<p class="pb-passage-note">{escape(citation.passage_note)}</p>'
        if citation.passage_note
        else ""
    )
    return (
        f'<li class="pb-source" id="{anchor}-{citation.n}">'
        f'<span class="pb-n">[{citation.n}]</span> '
        f"{link}{status}<details><summary>Show the exact passage</summary>{note}"
        f"<blockquote>{escape(citation.passage)}</blockquote></details></li>"
    )


def _paragraphs(text: str) -> str:
    return "".join(
        f"<p>{escape(block).replace(chr(10), '<br>')}</p>"
        for block in text.split("\n\n")
        if block.strip()
    )


def _marks(numbers: tuple[int, ...], anchor: str) -> str:
    return "".join(
        f'<a class="pb-cite" href="#{anchor}-{n}" aria-label="Source {n}">[{n}]</a>'
        for n in numbers
    )


def render_plain(points: tuple[PlainPoint, ...], anchor: str) -> str:
    """The plain-language lead: sentences written for this project, each citing its passages."""
    items = "".join(f"<li>{escape(p.text)} {_marks(p.citations, anchor)}</li>" for p in points)
    return (
        f'<div class="pb-plain"><p class="pb-heading"><strong>{escape(prompts.LEAD_PLAIN)}'
        f'</strong></p><ul class="pb-points">{items}</ul></div>'
    )


def render_words(words: tuple[GlossaryEntry, ...]) -> str:
    """ "Words to know" under an answer: hard words in it and their plain meanings."""
    items = "".join(
        f"<li><strong>{escape(w.term)}</strong>: {escape(w.definition)}</li>" for w in words
    )
    return (
        f'<div class="pb-words"><p class="pb-words-title">{escape(prompts.WORDS_TO_KNOW)}</p>'
        f"<ul>{items}</ul></div>"
    )


def render_answer(answer: Answer, shown: int | None = None) -> str:
    """HTML for one answer. ``shown`` limits the cited sentences shown (for streaming);
    sources and the disclaimer appear once the whole answer is shown."""
    anchor = f"pb-src-{escape(answer.id or 'a', quote=True)}"
    parts_html: list[str] = []
    if answer.parts or answer.plain:
        if answer.lead:
            parts_html.append(f'<div class="pb-lead">{_paragraphs(answer.lead)}</div>')
        if answer.plain:
            parts_html.append(render_plain(answer.plain, anchor))
        remaining = sum(len(p.items) for p in answer.parts) if shown is None else shown
        for part in answer.parts:
            if remaining <= 0:
                break
            items = []
            for sentence, n in part.items[:remaining]:
                items.append(
                    f"<li>{escape(sentence)} "
                    f'<a class="pb-cite" href="#{anchor}-{n}" '
                    f'aria-label="Source {n}">[{n}]</a></li>'
                )
            remaining -= len(items)
            parts_html.append(
                f'<p class="pb-heading"><strong>{escape(part.heading)}</strong></p>'
                f'<ul class="pb-points">{"".join(items)}</ul>'
            )
    else:
        parts_html.append(_paragraphs(answer.text))
    complete = shown is None or shown >= sum(len(p.items) for p in answer.parts)
    if answer.words_first and answer.words:
        parts_html.insert(0, render_words(answer.words))
    out = [f'<div class="pb-answer">{"".join(parts_html)}']
    if complete:
        if answer.words and not answer.words_first:
            out.append(render_words(answer.words))
        if answer.citations:
            items_html = "".join(render_citation(c, anchor) for c in answer.citations)
            out.append(
                f'<p class="pb-sources-title">Sources</p><ol class="pb-sources">{items_html}</ol>'
            )
        out.append(f'<p class="pb-disclaimer">{escape(answer.disclaimer)}</p>')
    out.append("</div>")
    return "".join(out)
