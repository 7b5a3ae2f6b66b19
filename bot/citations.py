"""Passage -> Citation: a human label, a URL and whether the source was verified."""

from __future__ import annotations

from bot import prompts
from bot.review import parse_date
from bot.types import Citation, Passage


def is_verified(passage: Passage) -> bool:
    verification = str(passage.metadata.get("verification", "")).lower()
    return (
        bool(verification)
        and "unverified" not in verification
        and "not verified" not in verification
    )


ARTICLE_ID = "article"
"""The source id of the clinician's article (corpus/article.md)."""


def is_article(passage: Passage) -> bool:
    return passage.source_id == ARTICLE_ID or passage.metadata.get("kind") == "article"


def is_news(passage: Passage) -> bool:
    """A news report (its record says so in its label or outlet): never a checked finding."""
    meta = passage.metadata
    described = f"{meta.get('short_citation', '')} {meta.get('journal', '')}".lower()
    return "news" in described


def is_checked_finding(passage: Passage) -> bool:
    """A checked research source (not the article, a news report or an unverified note)."""
    return not is_article(passage) and not is_news(passage) and is_verified(passage)


def citation_label(passage: Passage) -> str:
    meta = passage.metadata
    if is_article(passage):
        return f"Article, section '{passage.section}'" if passage.section else "Article"
    if not is_verified(passage):
        pmid = meta.get("pmid") or passage.source_id.removeprefix("pmid-")
        return f"PubMed ID {pmid} (unverified reference)"
    short = str(meta.get("short_citation") or meta.get("title") or passage.source_id)
    journal = meta.get("journal")
    label = f"{short}, {journal}" if journal else short
    # The section tells two cited passages of one paper apart in the list of sources.
    return f"{label}, section '{passage.section}'" if passage.section else label


def passage_note(passage: Passage) -> str:
    """Whose words a reference passage is, from its record's text_kind."""
    if is_article(passage):
        return ""
    text_kind = str(passage.metadata.get("text_kind", "")).lower()
    if "abstract" in text_kind and "not the published abstract" not in text_kind:
        return prompts.ABSTRACT_PASSAGE_NOTE
    if text_kind.startswith("summary"):
        return prompts.SUMMARY_PASSAGE_NOTE
    if text_kind.startswith("note"):
        return prompts.NOTE_PASSAGE_NOTE
    return ""


def make_citation(n: int, passage: Passage) -> Citation:
    url = passage.metadata.get("url") or None
    reviewed = parse_date(passage.metadata.get("reviewed"))
    return Citation(
        n=n,
        source_id=passage.source_id,
        chunk_id=passage.chunk_id,
        title=str(passage.metadata.get("title", "")),
        label=citation_label(passage),
        url=str(url) if url else None,
        section=passage.section,
        verification=str(passage.metadata.get("verification", "")),
        verified=is_verified(passage),
        passage=passage.text,
        kind="article" if is_article(passage) else "reference",
        passage_note=passage_note(passage),
        reviewed=reviewed.isoformat() if reviewed else "",
    )
