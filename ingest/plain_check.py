"""Ingest's check of the plain-language layer (corpus/plain/) against the sources it names.

Runs bot.plain.check_plain over the loaded documents' sections, so a maintainer learns at
ingest which plain sentences their passages do not back (refused, with the reason) and which
sources have no plain summary yet. The result is cached by the content of the plain files and
the documents, so an unchanged corpus costs no model load.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.embeddings import Embedder
from bot.errors import ConfigurationError
from bot.plain import PLAIN_FOLDER, check_plain, load_names, load_plain, sources_without_plain
from bot.question_kind import KindClassifier
from bot.text_vectors import CACHE_NAME as TEXT_VECTORS
from bot.text_vectors import RememberingEmbedder
from bot.types import Document

log = logging.getLogger(__name__)
CACHE_NAME = "plain-check.json"


@dataclass
class PlainReport:
    refused: list[dict[str, str]] = field(default_factory=list)
    without_plain: list[str] = field(default_factory=list)


def _fingerprint(folder: Path, documents: Sequence[Document]) -> str:
    digest = hashlib.sha256()
    for path in [*sorted((folder / PLAIN_FOLDER).glob("*.toml")), folder / "names.toml"]:
        if path.exists():
            digest.update(path.name.encode() + path.read_bytes())
    for d in sorted(documents, key=lambda d: d.source_id):
        for section in d.sections:
            digest.update(f"{d.source_id}\0{section.title}\0{section.text}\0".encode())
    return digest.hexdigest()


def check_folder(
    folder: Path, documents: Sequence[Document], embedder: Embedder, cache_dir: Path
) -> PlainReport:
    """Refused plain sentences and sources without a plain summary, for one corpus folder."""
    if not (folder / PLAIN_FOLDER).is_dir():
        return PlainReport()
    fingerprint = _fingerprint(folder, documents)
    cache = cache_dir / CACHE_NAME
    try:
        saved = json.loads(cache.read_text())
        if saved.get("fingerprint") == fingerprint:
            return PlainReport(saved["refused"], saved["without_plain"])
    except (OSError, ValueError, KeyError):
        pass
    try:
        layer = load_plain(folder)
        names = load_names(folder)
    except ConfigurationError as exc:
        return PlainReport([{"id": "", "path": str(folder / PLAIN_FOLDER), "reason": str(exc)}])
    sections = {
        (d.source_id, s.title.strip().lower()): s.text for d in documents for s in d.sections
    }
    # The vectors are kept for the bot, which checks the same sentences and compares questions
    # with the kinds' examples and the sentences' example questions when it loads.
    remembering = RememberingEmbedder(embedder, cache_dir / TEXT_VECTORS)
    _, refusals = check_plain(layer, sections, remembering, names)
    KindClassifier.load(folder, remembering)
    remembering.embed_documents([q for s in layer.sentences for q in s.asks])
    remembering.save()
    report = PlainReport(
        [r.to_json() for r in refusals],
        sources_without_plain(layer, [d.source_id for d in documents]),
    )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache.write_text(
            json.dumps(
                {
                    "fingerprint": fingerprint,
                    "refused": report.refused,
                    "without_plain": report.without_plain,
                }
            )
        )
    except OSError as exc:  # only costs a re-check next time
        log.warning("could not save %s: %s", cache, exc)
    return report


__all__ = ["PlainReport", "check_folder"]
