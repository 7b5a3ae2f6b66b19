"""Render an Answer as safe HTML for the chat page: every piece of text is escaped."""

from __future__ import annotations

from html import escape

from bot.types import Answer, Citation


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def render_citation(citation: Citation) -> str:
    label = escape(citation.label or citation.title)
    url = _safe_url(citation.url)
    link = (
        f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{label}</a>'
        if url
        else label
    )
    status = (
        ""
        if citation.verified
        else (
            ' <span class="pb-unverified">'
            f"({escape(citation.verification or 'not verified')})</span>"
        )
    )
    return (
        f'<li class="pb-source"><span class="pb-n">[{citation.n}]</span> {link}{status}'
        f"<details><summary>Show the exact passage</summary>"
        f"<blockquote>{escape(citation.passage)}</blockquote></details></li>"
    )


def render_answer(answer: Answer, text: str | None = None) -> str:
    """HTML for one answer; ``text`` lets the caller stream a prefix of the answer text."""
    body = escape(answer.text if text is None else text).replace("\n", "<br>")
    parts = [f'<div class="pb-answer"><p>{body}</p>']
    if text is None or text == answer.text:
        if answer.citations:
            items = "".join(render_citation(c) for c in answer.citations)
            parts.append(
                f'<p class="pb-sources-title">Sources</p><ol class="pb-sources">{items}</ol>'
            )
        parts.append(f'<p class="pb-disclaimer">{escape(answer.disclaimer)}</p>')
    parts.append("</div>")
    return "".join(parts)
