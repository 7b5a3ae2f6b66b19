"""The store's live passages with their keyword (BM25) index and word statistics, kept on disk.

Building them reads and counts every passage: about 10 s on a store of 7,000 passages, paid
by every start and every replica. So they are written once per store generation (by the
ingest that changed the store, or by the first start after it) into a folder under the cache,
named by the store's identity and generation, and read from there. A folder of another
generation or another store (a rebuilt one reuses generation numbers) is never read; one that
cannot be read is rebuilt. Nothing here is needed for correctness: deleting the folder only
costs the next start its build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.lexicon import STOPWORDS, LexiconStats
from bot.retrieve import KeywordIndex
from bot.store import record_id
from bot.types import Passage

log = logging.getLogger(__name__)

FORMAT = 2
"""Bump when what is written, or how the passages are indexed or counted, changes."""
FOLDER = "corpus-index"
_PASSAGES = "passages.json"
_LEXICON = "lexicon.json"
_KEY = "key.json"
_STORE = "store.json"


@dataclass(frozen=True)
class CorpusIndex:
    """What the query side derives from every live passage, at one store generation."""

    generation: int
    passages: list[Passage]
    keyword: KeywordIndex
    stats: LexiconStats

    @cached_property
    def by_id(self) -> dict[str, Passage]:
        """Every live passage by chunk id (for passages fetched by a link, bot/lead.py)."""
        return {p.chunk_id: p for p in self.passages}

    @cached_property
    def by_record(self) -> dict[str, Passage]:
        """Every live passage by the id of its chunk record in the store (store.record_id):
        a dense search then reads only ids and distances from the store."""
        return {record_id(p): p for p in self.passages}

    @classmethod
    def build(cls, passages: list[Passage], generation: int) -> CorpusIndex:
        stats = LexiconStats.of([p.text for p in passages])
        return cls(generation, passages, KeywordIndex(passages), stats)


def load_corpus_index(store: Any, cache_dir: Path | None) -> CorpusIndex:
    """The index of the store's current generation: read from ``cache_dir`` when written
    before, else built from the store's passages (and written for the next start).

    A store without an ``identity`` (a test fake) or no ``cache_dir`` is always built."""
    generation = int(store.generation())  # before the passages: a change meanwhile is seen
    folder = _folder(store, cache_dir, generation)
    if folder is not None and folder.is_dir():
        try:
            return _read(folder, generation)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("corpus index %s not used (%s); rebuilding it", folder, exc)
    built = CorpusIndex.build(store.all_passages(), generation)
    if folder is not None and int(store.generation()) == generation:
        try:
            _write(built, folder, _home(store))
        except OSError as exc:  # a read-only disk only costs start-up time
            log.warning("could not save the corpus index in %s: %s", folder, exc)
    return built


def write_corpus_index(store: Any, cache_dir: Path | None) -> bool:
    """Build and write the index of the store's generation unless written already (ingest
    calls it last, so the next start reads it). Returns whether it wrote one."""
    generation = int(store.generation())
    folder = _folder(store, cache_dir, generation)
    if folder is None or (folder / _KEY).is_file():
        return False
    built = CorpusIndex.build(store.all_passages(), generation)
    if int(store.generation()) != generation:
        return False
    _write(built, folder, _home(store))
    return True


def _home(store: Any) -> Path | None:
    folder = getattr(store, "local_folder", None)
    return folder() if folder is not None else None


def _key(identity: str, generation: int) -> dict[str, Any]:
    import bm25s

    stopwords = hashlib.blake2b(" ".join(sorted(STOPWORDS)).encode(), digest_size=8)
    return {
        "format": FORMAT,
        "store": identity,
        "generation": generation,
        "stopwords": stopwords.hexdigest(),
        "bm25s": str(bm25s.__version__),
    }


def _folder(store: Any, cache_dir: Path | None, generation: int) -> Path | None:
    identity = getattr(store, "identity", None)
    if cache_dir is None or identity is None:
        return None
    digest = hashlib.blake2b(json.dumps(_key(identity(), 0)).encode(), digest_size=8)
    return Path(cache_dir) / FOLDER / digest.hexdigest() / f"g{generation}"


def _read(folder: Path, generation: int) -> CorpusIndex:
    key = json.loads((folder / _KEY).read_text(encoding="utf-8"))
    if key.get("generation") != generation or key.get("format") != FORMAT:
        raise ValueError(f"it was written for generation {key.get('generation')}")
    records = json.loads((folder / _PASSAGES).read_text(encoding="utf-8"))
    from bot.store import stored_passage

    passages = [stored_passage(text, meta, 0.0) for text, meta in records]
    stats = LexiconStats.from_json(json.loads((folder / _LEXICON).read_text(encoding="utf-8")))
    if stats.n_docs != max(1, len(passages)):
        raise ValueError(f"its word counts cover {stats.n_docs} passages, not {len(passages)}")
    keyword = KeywordIndex.load(folder, passages)
    log.info("corpus index of generation %d read from %s", generation, folder)
    return CorpusIndex(generation, passages, keyword, stats)


def _write(index: CorpusIndex, folder: Path, home: Path | None = None) -> None:
    """Write into a fresh folder, then rename it into place (a reader sees all or nothing);
    then remove the folders of other generations of this store, and those of on-disk stores
    that are gone (``home``: this store's folder, recorded for that check)."""
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)  # unreadable (else it would have been read)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _sweep_deleted_stores(folder.parent.parent)
    (folder.parent / _STORE).write_text(
        json.dumps({"folder": str(home) if home else None}), encoding="utf-8"
    )
    partial = folder.parent / f".partial-{uuid.uuid4().hex}"
    partial.mkdir()
    try:
        index.keyword.save(partial)
        records = [[p.text, p.metadata] for p in index.passages]
        (partial / _PASSAGES).write_text(json.dumps(records), encoding="utf-8")
        (partial / _LEXICON).write_text(json.dumps(index.stats.to_json()), encoding="utf-8")
        # The key goes last: a folder with a key holds everything the key vouches for.
        key = _key(folder.parent.name, index.generation)
        (partial / _KEY).write_text(json.dumps(key), encoding="utf-8")
        try:
            os.rename(partial, folder)
        except OSError:  # another process wrote the same generation first: keep theirs
            shutil.rmtree(partial, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    for other in folder.parent.iterdir():
        if _older(other, index.generation):
            shutil.rmtree(other, ignore_errors=True)
    log.info("corpus index of generation %d saved in %s", index.generation, folder)


def _older(folder: Path, generation: int) -> bool:
    """An earlier generation's folder, or what a write that crashed an hour ago left."""
    name = folder.name
    if name.startswith("g") and name[1:].isdigit():
        return int(name[1:]) < generation
    if name.startswith(".partial-"):
        try:
            return time.time() - folder.stat().st_mtime > 3600
        except OSError:
            return False
    return False


def _sweep_deleted_stores(root: Path) -> None:
    """Remove the folders of on-disk stores whose folder no longer exists (a test's temporary
    store, a store moved or deleted): nothing will ever read them."""
    for store in root.iterdir():
        try:
            home = json.loads((store / _STORE).read_text(encoding="utf-8")).get("folder")
        except (OSError, ValueError, AttributeError):
            continue  # a server's store, or one being written right now
        if home and not Path(home).exists():
            shutil.rmtree(store, ignore_errors=True)
