"""The plain-language layer: short summaries written for this project, checked against sources.

Each file in ``corpus/plain/`` summarises one source in plain words; every sentence names the
sections (passages) that back it, the kinds of question it answers, the words it is about and
the caveats (other plain sentences) that must travel with it. `check_plain` accepts a sentence
only when its backing passages support it: a support score over the threshold, and every
number, negation and drug or condition name it states found in them. Ingest reports the
refusals; the bot uses only accepted sentences.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np

from bot.embeddings import Embedder
from bot.errors import ConfigurationError
from bot.grounding import COSINE_WEIGHT, OVERLAP_WEIGHT, missing_numbers, word_overlap
from bot.sentences import split_sentences

PLAIN_FOLDER = "plain"
NAMES_FILE = "names.toml"
MIN_SUPPORT = 0.55
"""Plain sentences paraphrase their passage in easier words, so the bar is a little lower than
for LLM sentences (0.6); numbers, negations and names are checked exactly on top of it."""
_NEGATION = re.compile(
    r"\b(no|not|never|none|nothing|neither|nor|without|cannot|can't|could not|isn't|aren't|"
    r"wasn't|weren't|don't|doesn't|didn't|won't|unverified|unchecked)\b|n't\b",
    re.I,
)
_CITATION = re.compile(r"\([^()]*\b(?:19|20)\d\d\)|\[\d+\]|\bet al\b")
"""A citation in a source's own sentence: "(PubMed, 2020)", "[3]", "et al"."""
UNCITED = "uncited"
"""The role of a note that the author names no source for a claim: checked by the claim's
exact words (``quote``) being in the backing passage, in a sentence with no citation, not by
support (a note about a missing citation restates nothing the passage says)."""
KINDS = (
    "what_is",
    "how_it_works",
    "does_it_work",
    "is_it_safe",
    "who_should_not",
    "how_long",
    "is_it_true",
    "who_wrote",
    "which_study",
)


@dataclass(frozen=True)
class PlainSentence:
    id: str
    source_id: str
    text: str
    backed_by: tuple[tuple[str, str], ...]
    """(source id, section title) of each passage that backs the sentence."""
    kinds: tuple[str, ...] = ()
    about: tuple[str, ...] = ()
    """Words and phrases a question may use for what the sentence is about (matching only)."""
    role: str = "fact"
    """benefit, claim, limit, risk, caution, status, uncited or fact."""
    caveats: tuple[str, ...] = ()
    """Ids of plain sentences to show whenever this one is shown."""
    quote: str = ""
    """For an ``uncited`` note: the exact words of the claim it is about, in its passage."""
    asks: tuple[str, ...] = ()
    """Questions, as patients word them, that the sentence answers directly (matching only:
    a patient's question is compared with these as well as with the sentence)."""

    def backed_by_lower(self) -> tuple[tuple[str, str], ...]:
        return tuple((src, sec.strip().lower()) for src, sec in self.backed_by)


@dataclass(frozen=True)
class PlainRefusal:
    id: str
    path: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class PlainLayer:
    sentences: tuple[PlainSentence, ...] = ()
    paths: Mapping[str, str] = field(default_factory=dict)
    """Sentence id -> file it came from, for reports."""

    def by_id(self) -> dict[str, PlainSentence]:
        return {s.id: s for s in self.sentences}

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(s.source_id for s in self.sentences)

    def only(self, ids: set[str]) -> PlainLayer:
        return PlainLayer(tuple(s for s in self.sentences if s.id in ids), self.paths)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigurationError(f"{where}: expected a string or a list of strings; fix the file.")


def _read_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read as TOML ({exc}); fix the file.") from exc


def load_plain(corpus_dir: Path) -> PlainLayer:
    """Every plain-language sentence under ``corpus_dir/plain`` (empty when there is none)."""
    folder = corpus_dir / PLAIN_FOLDER
    sentences: list[PlainSentence] = []
    paths: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        data = _read_toml(path)
        source = data.get("source")
        if not isinstance(source, str) or not source:
            raise ConfigurationError(f'{path}: add `source = "<id of the source>"`.')
        rows = data.get("sentence", [])
        if not isinstance(rows, list):
            raise ConfigurationError(f"{path}: write sentences as [[sentence]] tables.")
        for row in rows:
            sid = str(row.get("id", ""))
            where = f"{path}, sentence {sid or '?'}"
            if not sid or sid in paths:
                raise ConfigurationError(f"{where}: every sentence needs its own unique `id`.")
            text = str(row.get("text", "")).strip()
            if not text or not row.get("backed_by"):
                raise ConfigurationError(f"{where}: needs `text` and `backed_by` (sections).")
            backed = tuple(
                tuple(b.split("#", 1)) if "#" in b else (source, b)
                for b in _strings(row["backed_by"], where)
            )
            kinds = _strings(row.get("kinds", []), where)
            unknown = set(kinds) - set(KINDS)
            if unknown:
                raise ConfigurationError(
                    f"{where}: unknown kinds {sorted(unknown)}; use some of {', '.join(KINDS)}."
                )
            sentences.append(
                PlainSentence(
                    id=sid,
                    source_id=source,
                    text=text,
                    backed_by=tuple((a, b) for a, b in backed),
                    kinds=kinds,
                    about=_strings(row.get("about", []), where),
                    role=str(row.get("role", "fact")),
                    caveats=_strings(row.get("caveats", []), where),
                    quote=str(row.get("quote", "")).strip(),
                    asks=_strings(row.get("asks", []), where),
                )
            )
            if sentences[-1].role == UNCITED and not sentences[-1].quote:
                raise ConfigurationError(
                    f"{where}: an `uncited` note needs `quote`, the claim's exact words."
                )
            paths[sid] = str(path)
    known = set(paths)
    for s in sentences:
        missing = set(s.caveats) - known
        if missing:
            raise ConfigurationError(
                f"{paths[s.id]}, sentence {s.id}: caveats {sorted(missing)} are not sentence ids."
            )
    return PlainLayer(tuple(sentences), paths)


def load_names(corpus_dir: Path) -> tuple[tuple[str, ...], ...]:
    """Groups of drug and condition names (each group: the names of one thing)."""
    path = corpus_dir / NAMES_FILE
    if not path.exists():
        return ()
    names = _read_toml(path).get("names", {})
    if not isinstance(names, dict):
        raise ConfigurationError(f"{path}: write the names under a [names] table.")
    return tuple(_strings(forms, f"{path}, {key}") for key, forms in names.items())


def _mentions(text: str, form: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text, re.I) is not None


def _units(text: str) -> list[str]:
    sentences = split_sentences(text) or [text]
    return sentences + [f"{a} {b}" for a, b in pairwise(sentences)]


_CLAUSE_BREAK = re.compile(
    r"\s*(?:[;:]|\s-\s|,\s+(?=(?:and|but|so|or|while|where)\b)|\s(?=but\b))\s*"
)


def clauses(text: str) -> list[str]:
    """Sentences cut at semicolons, colons and ', and/but/so ...': the units whose 'no' or
    'not' must agree ("should not be used in heart disease, and should be avoided in ...")."""
    out: list[str] = []
    for sentence in split_sentences(text) or [text]:
        for part in _CLAUSE_BREAK.split(sentence.lstrip("-* ")):
            if len(part.split()) < 3 and out:
                out[-1] = f"{out[-1]} {part}"
            elif part.strip():
                out.append(part.strip())
    return out


def check_plain(
    layer: PlainLayer,
    passages: Mapping[tuple[str, str], str],
    embedder: Embedder,
    names: Sequence[tuple[str, ...]] = (),
    min_support: float = MIN_SUPPORT,
) -> tuple[PlainLayer, list[PlainRefusal]]:
    """The sentences their backing passages support, and a refusal for each of the others.

    ``passages`` maps (source id, section title lower-cased) to that section's text.
    """
    refusals: list[PlainRefusal] = []
    work: list[tuple[PlainSentence, str, list[str]]] = []
    for s in layer.sentences:
        found = [passages.get((src, sec.strip().lower())) for src, sec in s.backed_by]
        absent = [
            f"{src} section '{sec}'"
            for (src, sec), t in zip(s.backed_by, found, strict=True)
            if not t
        ]
        if absent:
            refusals.append(
                PlainRefusal(s.id, layer.paths.get(s.id, ""), f"names {absent}, not in the store")
            )
            continue
        backing = "\n\n".join(t for t in found if t)
        work.append((s, backing, _units(backing)))
    # One batch for every text the checks compare, embedded once.
    texts = sorted(
        {
            x
            for s, backing, units in work
            for x in [s.text, *clauses(s.text), *units, *clauses(backing)]
        }
    )
    vectors = dict(zip(texts, embedder.embed_documents(texts), strict=True)) if texts else {}
    for s, backing, units in work:
        if s.role == UNCITED:
            reason = _uncited_problem(s.quote, backing)
            if reason:
                refusals.append(PlainRefusal(s.id, layer.paths.get(s.id, ""), reason))
            continue
        reason = _problem(s.text, backing, names) or _negation_problem(
            s.text, clauses(backing), vectors
        )
        if reason is None:
            best = max(float(vectors[u] @ vectors[s.text]) for u in units)
            support = _support(s.text, backing, best)
            if support < min_support:
                reason = (
                    f"support {support:.2f} is below {min_support}: say only what the named "
                    "passages say"
                )
        if reason:
            refusals.append(PlainRefusal(s.id, layer.paths.get(s.id, ""), reason))
    refused = {r.id for r in refusals}
    return layer.only({s.id for s in layer.sentences if s.id not in refused}), refusals


def _support(text: str, backing: str, cosine: float) -> float:
    cosine = min(max(cosine, 0.0), 1.0)
    return COSINE_WEIGHT * cosine + OVERLAP_WEIGHT * word_overlap(text, backing)


def _negation_problem(
    text: str, backing_clauses: list[str], vectors: Mapping[str, np.ndarray]
) -> str | None:
    """Each clause of the sentence must agree on 'no/not' with its closest backing clause."""
    for clause in clauses(text):
        closest = max(
            backing_clauses,
            key=lambda b: _support(clause, b, float(vectors[b] @ vectors[clause])),
        )
        if bool(_NEGATION.search(clause)) != bool(_NEGATION.search(closest)):
            said = "says" if _NEGATION.search(clause) else "does not say"
            return f"'{clause}' {said} 'no/not', unlike its closest passage words: '{closest}'"
    return None


def _uncited_problem(quote: str, backing: str) -> str | None:
    """Why an ``uncited`` note does not hold: its quote is not in the passage, or the passage
    sentence that holds it cites a source."""
    flat = " ".join(quote.split())
    holding = [u for u in split_sentences(" ".join(backing.split())) if flat in u]
    if not holding:
        return f"its quote '{quote}' is not in the named passages: copy the claim's exact words"
    if all(_CITATION.search(u) for u in holding):
        return f"the passage sentence holding '{quote}' cites a source, so it is not uncited"
    return None


def _problem(text: str, backing: str, names: Sequence[tuple[str, ...]]) -> str | None:
    numbers = missing_numbers(text, backing)
    if numbers:
        return f"numbers {sorted(numbers)} are not in the named passages"
    for forms in names:
        if any(_mentions(text, f) for f in forms) and not any(_mentions(backing, f) for f in forms):
            return f"it names {forms[0]!r}, which the named passages do not"
    return None


def sources_without_plain(layer: PlainLayer, source_ids: Sequence[str]) -> list[str]:
    """Sources in the store with no plain-language summary yet (for maintainers to write)."""
    have = layer.sources
    return sorted(s for s in source_ids if s not in have)


__all__ = [
    "KINDS",
    "PlainLayer",
    "PlainRefusal",
    "PlainSentence",
    "check_plain",
    "load_names",
    "load_plain",
    "sources_without_plain",
]
