"""Load and check corpus/vocabulary.toml: what the bot knows about this corpus's words."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.errors import VocabularyError

log = logging.getLogger(__name__)

FILE_NAME = "vocabulary.toml"
SUPPORTED_VERSION = 1


SEPARABLE_PARTICLES = frozenset({"out", "off", "up", "down", "away"})
"""A verb and one of these particles may hold their object between them ("rule out" ->
"rule someone out", "rule me out"). "back" and "in" are left out: they are nouns and
prepositions too ("broken back")."""


_CITATION_MARKS = r"[\s,;:()\[\]'\"\u2018\u2019\u201c\u201d-]*"
"""What may stand between the words of a source's name as citations are written."""


def phrase_pattern(
    phrases: Iterable[str], plural: bool = False, separable: bool = False
) -> re.Pattern[str]:
    """Whole-word (or whole-phrase) matches of any of ``phrases`` in lower-cased text;
    ``plural``: also with "s" or "es" added; ``separable``: a two-word phrase whose second
    word is a particle also matches with one or two words between the two."""
    alternatives = sorted({p.lower() for p in phrases}, key=len, reverse=True)
    escaped = [re.escape(p) for p in alternatives]
    if separable:
        pairs = [p.split() for p in alternatives if len(p.split()) == 2]
        escaped += [
            rf"{re.escape(verb)}(?:\s+[a-z']+){{1,2}}\s+{particle}"
            for verb, particle in pairs
            if particle in SEPARABLE_PARTICLES
        ]
    body = "|".join(escaped) or r"(?!x)x"
    ending = "(?:e?s)?" if plural else ""
    return re.compile(rf"(?<![a-z0-9'])(?:{body}){ending}(?![a-z0-9])")


@dataclass(frozen=True)
class WordGroup:
    """Words for one thing the sources may or may not study: a drug family, or a group of
    people."""

    name: str
    members: tuple[str, ...]
    studied: bool = True
    """False when no source studies it (it may be named, e.g. as left out of a review): a
    question asking about it is not covered (a ketamine finding in adults does not answer "is
    it used in children?")."""


DrugFamily = WordGroup
Population = WordGroup


@dataclass(frozen=True)
class LayTerm:
    words: tuple[str, ...]
    means: tuple[str, ...]


@dataclass(frozen=True)
class Disagreement:
    topic: str
    match: tuple[str, ...]
    """Word starts ("migrain") that name the topic in a sentence or a question."""


@dataclass(frozen=True)
class SourceName:
    source: str
    """A corpus source id (a reference file's name without .md)."""
    names: tuple[str, ...]
    """How patients name it: its PubMed ID, authors, journal, and the labels the article
    gives it ("the 2018 Current Opinion study")."""

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Any of the names, the words of a name standing up to three words apart ("the
        2023 psychedelics review" names "2023 review"), with commas, quotes or brackets
        between them as citations are written ("PubMed, 2020", "the Cohen (2018) paper")."""
        between = rf"{_CITATION_MARKS}\s{_CITATION_MARKS}"
        gap = rf"{between}(?:[a-z0-9'-]+{between}){{0,3}}"
        body = "|".join(
            gap.join(re.escape(w) for w in name.lower().split())
            for name in sorted(self.names, key=len, reverse=True)
        )
        # A name may open a quotation ("the 'PubMed, 2020' source"), not follow a letter's
        # apostrophe.
        return re.compile(rf"(?<![a-z0-9])(?<![a-z0-9]')(?:{body})(?![a-z0-9])")


@dataclass(frozen=True)
class Vocabulary:
    """The checked contents of the vocabulary file; see corpus/vocabulary.toml for each part."""

    article_names: tuple[str, ...]
    author_names: tuple[str, ...]
    authorship_words: tuple[str, ...]
    source_words: tuple[str, ...]
    drug_families: tuple[DrugFamily, ...]
    conditions: tuple[str, ...]
    lay_terms: tuple[LayTerm, ...]
    disagreements: tuple[Disagreement, ...]
    topic_words: tuple[str, ...]
    advice_requests: tuple[str, ...]
    always_personal: tuple[str, ...]
    always_personal_anywhere: tuple[str, ...]
    research_framing: tuple[str, ...]
    role_play: tuple[str, ...]
    stopwords: frozenset[str]
    source_names: tuple[SourceName, ...] = ()
    texting: tuple[tuple[str, str], ...] = ()
    """Texting shorthand and the words it stands for (("ur", "your"), ...)."""
    not_drugs: tuple[str, ...] = ()
    """Treatments that are not drugs ("cbt"): combining ketamine with one is no drug mix."""
    advice_disclaimers: tuple[str, ...] = ()
    """"I'm not asking whether I should": a sentence saying what is not asked asks no advice."""
    populations: tuple[Population, ...] = ()

    @cached_property
    def unstudied_population_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(m for p in self.populations if not p.studied for m in p.members)

    def names_unstudied_population(self, text: str) -> bool:
        """Whether lower-cased ``text`` names a group of people no source studies."""
        return bool(self.unstudied_population_pattern.search(text))

    @cached_property
    def _spelled(self) -> Mapping[str, str]:
        return dict(self.texting)

    @cached_property
    def texting_pattern(self) -> re.Pattern[str]:
        body = "|".join(re.escape(w) for w in sorted(self._spelled, key=len, reverse=True))
        return re.compile(rf"(?<![a-z0-9'/])(?:{body or '(?!x)x'})(?![a-z0-9'/])")

    def spell_out(self, text: str) -> str:
        """Lower-cased ``text`` with its texting shorthand written out."""
        if not self.texting:
            return text
        return self.texting_pattern.sub(lambda m: self._spelled[m.group(0)], text)

    @cached_property
    def not_drug_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.not_drugs, plural=True)

    @cached_property
    def disclaimer_pattern(self) -> re.Pattern[str] | None:
        return phrase_pattern(self.advice_disclaimers) if self.advice_disclaimers else None

    def sources_named(self, text: str) -> frozenset[str]:
        """Ids of the corpus sources ``text`` (lower-cased) names."""
        return frozenset(s.source for s in self.source_names if s.pattern.search(text))

    def without_source_names(self, text: str) -> str:
        """``text`` (lower-cased) with the names of sources blanked: a source's name is not
        its topic ("Psychedelics Today" is a news site, not a question about psychedelics)."""
        for s in self.source_names:
            text = s.pattern.sub(" ", text)
        return text

    @cached_property
    def synonyms(self) -> Mapping[str, tuple[str, ...]]:
        """Patient word -> the sources' words for it (every lay term entry merged)."""
        out: dict[str, list[str]] = {}
        for entry in self.lay_terms:
            for word in entry.words:
                out.setdefault(word, []).extend(m for m in entry.means if m not in out[word])
        return {w: tuple(m) for w, m in out.items()}

    @cached_property
    def drug_of(self) -> Mapping[str, str]:
        """Member word -> its family's name."""
        return {m: f.name for f in self.drug_families for m in f.members}

    @cached_property
    def unstudied_drugs(self) -> frozenset[str]:
        """Names of the drug families no source studies."""
        return frozenset(f.name for f in self.drug_families if not f.studied)

    @cached_property
    def drug_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.drug_of)

    @cached_property
    def condition_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.conditions)

    @cached_property
    def topic_pattern(self) -> re.Pattern[str]:
        words = [*self.topic_words, *self.drug_of, *self.conditions, *self.author_names]
        return phrase_pattern(words)

    @cached_property
    def request_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.advice_requests)

    @cached_property
    def always_personal_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.always_personal)

    @cached_property
    def always_personal_anywhere_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.always_personal_anywhere)

    @cached_property
    def lay_pattern(self) -> re.Pattern[str]:
        """Any lay word or phrase ("magic mushrooms"), also in the plural ("drips") or with
        its object inside ("rule someone out")."""
        return phrase_pattern(self.synonyms, plural=True, separable=True)

    def lay_word(self, phrase: str) -> str:
        """The lay word or phrase as listed, for one matched singular or plural ("drips" ->
        "drip") or with its object inside ("rule someone out" -> "rule out"); "" when it is
        none."""
        singular = (phrase[:-1], phrase[:-2] if phrase.endswith("es") else "")
        for form in (phrase, *singular) if phrase.endswith("s") else (phrase,):
            if form in self.synonyms:
                return form
        words = phrase.split()
        if len(words) > 2 and words[-1] in SEPARABLE_PARTICLES:
            return self.lay_word(f"{words[0]} {words[-1]}")
        return ""

    def lay_meaning(self, phrase: str) -> tuple[str, ...]:
        """The sources' words for a lay word or phrase, singular or plural ("drips")."""
        return self.synonyms.get(self.lay_word(phrase), ())

    @cached_property
    def research_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.research_framing)

    @cached_property
    def role_play_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.role_play)

    @cached_property
    def source_pattern(self) -> re.Pattern[str]:
        return phrase_pattern(self.source_words)

    @cached_property
    def article_pattern(self) -> re.Pattern[str]:
        return re.compile(rf"\b(this|the) ({'|'.join(map(re.escape, self.article_names))})\b")

    @cached_property
    def author_name_words(self) -> frozenset[str]:
        """The words of the article author's names ("george")."""
        return frozenset(w for name in self.author_names for w in name.lower().split())

    @cached_property
    def author_pattern(self) -> re.Pattern[str]:
        return phrase_pattern([*self.author_names, *self.authorship_words])


def _where(path: Path, key: str) -> str:
    return f"{path}: [{key}]"


def _words(path: Path, key: str, value: Any, *, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise VocabularyError(
            f"{_where(path, key)} must be a list of non-empty strings; fix the entry and restart."
        )
    if not value and not allow_empty:
        raise VocabularyError(f"{_where(path, key)} is empty; add at least one word.")
    return tuple(v.strip().lower() for v in value)


def _flag(path: Path, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise VocabularyError(f"{_where(path, key)} must be true or false (got {value!r}).")
    return value


def _table(path: Path, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise VocabularyError(
            f"{_where(path, key)} is missing; see the shipped file for its shape."
        )
    return value


def _array(
    path: Path,
    data: Mapping[str, Any],
    key: str,
    fields: set[str],
    optional: frozenset[str] = frozenset(),
) -> list[Mapping[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise VocabularyError(f"{_where(path, key)} needs at least one [[{key}]] entry.")
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or not fields <= set(entry) <= fields | optional:
            got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            also = f", and may have {sorted(optional)}" if optional else ""
            raise VocabularyError(
                f"{path}: [[{key}]] entry {i + 1} must have exactly the keys {sorted(fields)}"
                f"{also} (it has {got})."
            )
    return value


_TOP_KEYS = {
    "version",
    "article",
    "sources",
    "drug_family",
    "conditions",
    "lay_term",
    "disagreement",
    "topic",
    "advice",
    "role_play",
    "stopwords",
    "source_name",
    "texting",
    "population",
}


def _word_groups(path: Path, data: Mapping[str, Any], key: str) -> tuple[WordGroup, ...]:
    """The checked [[key]] entries: name, members and, optionally, studied."""
    return tuple(
        WordGroup(
            str(e["name"]),
            _words(path, f"{key} {e['name']}.members", e["members"]),
            _flag(path, f"{key} {e['name']}.studied", e.get("studied", True)),
        )
        for e in _array(path, data, key, {"name", "members"}, frozenset({"studied"}))
    )


def parse_vocabulary(data: Mapping[str, Any], path: Path) -> Vocabulary:
    """Check every part of a parsed vocabulary file; raise VocabularyError naming the entry."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise VocabularyError(
            f"{path}: unknown part(s) {sorted(unknown)}; the known parts are {sorted(_TOP_KEYS)}."
        )
    if data.get("version") != SUPPORTED_VERSION:
        raise VocabularyError(
            f"{path}: version must be {SUPPORTED_VERSION} (got {data.get('version')!r})."
        )
    article = _table(path, data, "article")
    advice = _table(path, data, "advice")
    families = _word_groups(path, data, "drug_family")
    seen: dict[str, str] = {}
    for family in families:
        for member in family.members:
            if member in seen and seen[member] != family.name:
                raise VocabularyError(
                    f"{path}: '{member}' is in two drug families ({seen[member]}, "
                    f"{family.name}); keep it in one."
                )
            seen[member] = family.name
    lay_terms = tuple(
        LayTerm(
            _words(path, f"lay_term {i + 1}.words", e["words"]),
            _words(path, f"lay_term {i + 1}.means", e["means"]),
        )
        for i, e in enumerate(_array(path, data, "lay_term", {"words", "means"}))
    )
    disagreements = tuple(
        Disagreement(str(e["topic"]), _words(path, f"disagreement {e['topic']}.match", e["match"]))
        for e in _array(path, data, "disagreement", {"topic", "match"})
    )
    source_names = tuple(
        SourceName(str(e["source"]), _words(path, f"source_name {e['source']}.names", e["names"]))
        for e in (
            _array(path, data, "source_name", {"source", "names"}) if "source_name" in data else []
        )
    )
    texting = data.get("texting", {})
    if not isinstance(texting, dict) or not all(
        isinstance(k, str) and re.fullmatch(r"[a-z0-9]+", k) and isinstance(v, str) and v.strip()
        for k, v in texting.items()
    ):
        raise VocabularyError(
            f"{path}: [texting] must map lower-case shorthand words to the words they stand "
            'for, e.g. ur = "your".'
        )
    populations = _word_groups(path, data, "population") if "population" in data else ()
    return Vocabulary(
        populations=populations,
        texting=tuple((k, v.strip().lower()) for k, v in texting.items()),
        not_drugs=(
            _words(path, "advice.not_drugs", advice.get("not_drugs"))
            if "not_drugs" in advice
            else ()
        ),
        advice_disclaimers=(
            _words(path, "advice.disclaim", advice.get("disclaim")) if "disclaim" in advice else ()
        ),
        source_names=source_names,
        article_names=_words(path, "article.names", article.get("names")),
        author_names=_words(path, "article.author", article.get("author")),
        authorship_words=_words(path, "article.authorship", article.get("authorship")),
        source_words=_words(path, "sources.words", _table(path, data, "sources").get("words")),
        drug_families=families,
        conditions=_words(path, "conditions.names", _table(path, data, "conditions").get("names")),
        lay_terms=lay_terms,
        disagreements=disagreements,
        topic_words=_words(path, "topic.words", _table(path, data, "topic").get("words")),
        advice_requests=_words(path, "advice.request", advice.get("request")),
        always_personal=_words(path, "advice.always", advice.get("always")),
        always_personal_anywhere=_words(
            path, "advice.always_anywhere", advice.get("always_anywhere")
        ),
        research_framing=_words(path, "advice.research", advice.get("research")),
        role_play=_words(path, "role_play.phrases", _table(path, data, "role_play").get("phrases")),
        stopwords=frozenset(
            _words(path, "stopwords.words", _table(path, data, "stopwords").get("words"))
        ),
    )


def load_vocabulary(path: Path) -> Vocabulary:
    """Read and check the vocabulary file at ``path`` (a file or the corpus folder)."""
    if path.is_dir():
        path = path / FILE_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VocabularyError(
            f"{path} is missing: the corpus needs its vocabulary file (copy the shipped "
            "corpus/vocabulary.toml and adapt it)."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{path} is not valid TOML ({exc}); fix the line it names.") from None
    return parse_vocabulary(data, path)


SHIPPED = Path(__file__).resolve().parent.parent / "corpus" / FILE_NAME


def default_vocabulary() -> Vocabulary:
    """The vocabulary shipped with the corpus (for tools and tests without settings)."""
    return _cached_default()


_DEFAULT: list[Vocabulary] = []


def _cached_default() -> Vocabulary:
    if not _DEFAULT:
        _DEFAULT.append(load_vocabulary(SHIPPED))
    return _DEFAULT[0]


def corpus_vocabulary(corpus_dir: Path) -> Vocabulary:
    """The corpus folder's vocabulary file, checked; the shipped one for a folder without one
    (a malformed file is an error, never silently replaced)."""
    if not (corpus_dir / FILE_NAME).exists():
        log.warning("%s has no %s; using %s", corpus_dir, FILE_NAME, SHIPPED)
        return default_vocabulary()
    return load_vocabulary(corpus_dir)
