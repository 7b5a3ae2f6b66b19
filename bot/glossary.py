"""The glossary shipped with the corpus: plain definitions shown as "Words to know".

`corpus/glossary.md` holds one `## Term` section per word, with `Also:` (other forms),
`Source:` (the source id and section that use the word) and the definition. `words_in`
picks the entries whose word appears in an answer's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from bot.errors import ConfigurationError
from bot.types import GlossaryEntry

GLOSSARY_FILE = "glossary.md"


def _entry(term: str, lines: list[str], where: str) -> GlossaryEntry:
    fields: dict[str, str] = {}
    body: list[str] = []
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("Also", "Source") and value:
            fields[key] = value.strip()
        elif line.strip():
            body.append(line.strip())
    if "Source" not in fields or not body:
        raise ConfigurationError(f"{where}, '{term}': add a 'Source:' line and a definition.")
    source, _, section = fields["Source"].partition("#")
    also = [f.strip() for f in fields.get("Also", "").split(",") if f.strip()]
    return GlossaryEntry(term, " ".join(body), source.strip(), section.strip(), (term, *also))


def load_glossary(corpus_dir: Path) -> tuple[GlossaryEntry, ...]:
    """Entries of ``corpus_dir/glossary.md`` (none when the file is absent)."""
    path = corpus_dir / GLOSSARY_FILE
    if not path.exists():
        return ()
    entries: list[GlossaryEntry] = []
    term: str | None = None
    lines: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "## "]:
        if line.startswith("## "):
            if term:
                entries.append(_entry(term, lines, str(path)))
            term, lines = line[3:].strip(), []
        elif term is not None:
            lines.append(line)
    return tuple(entries)


_Z_SPELLING = re.compile(r"iz(?=e|ation|ing)")
"""American "-ize"/"-ization" where British English writes "-ise"/"-isation": a patient who
writes "central sensitisation" asks about the same term."""


def _pattern(forms: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(
        _Z_SPELLING.sub("i[sz]", re.escape(f)) for f in sorted(forms, key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I)


def words_in(
    text: str, glossary: Iterable[GlossaryEntry], limit: int = 6
) -> tuple[GlossaryEntry, ...]:
    """The entries whose term (or another form) appears in ``text``, in order of first use."""
    found: list[tuple[int, GlossaryEntry]] = []
    for entry in glossary:
        match = _pattern(entry.forms).search(text)
        if match:
            found.append((match.start(), entry))
    return tuple(e for _, e in sorted(found, key=lambda x: x[0])[:limit])


__all__ = ["GlossaryEntry", "load_glossary", "words_in"]
