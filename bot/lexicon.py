"""Corpus word statistics for matching a patient's words to the sources' words.

Built from the passages themselves: word rarity (IDF) so that "fibromyalgia" counts for more
than "pain", spelling correction against the corpus's own words, and acronyms the sources spell
out ("complex regional pain syndrome (CRPS)") so "CRPS" also finds the long form. The reviewed
word knowledge (lay terms, drug families, stopwords) comes from corpus/vocabulary.toml.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from bot.vocabulary import Vocabulary, default_vocabulary

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ACRONYM = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,7})\(([A-Z][A-Za-z]{1,6})\)")
STOPWORDS = default_vocabulary().stopwords
"""The one stopword list (corpus/vocabulary.toml [stopwords])."""
SPELLING_CUTOFF = 85.0
"""rapidfuzz ratio (0-100) a corpus word needs to count as the intended spelling: "migranes" ->
"migraines" (94), "netwrok" -> "network" (86), not "medicare" -> "medical" (80)."""
COMMON_WORD_ZIPF = 3.0
"""General-English frequency (wordfreq's Zipf scale) from which a question word is a word in its
own right, not a misspelling: "internet" (5.1), "interactions" (4.2), "shingles" (3.1); not
"migranes" or "guidlines"."""
FAMILY_ROOT = 6
"""Letters a question word's stem needs before a corpus word whose stem starts with it counts
as another form of it (bot.lexicon.Lexicon._another_form)."""


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    # Cached: an answer stems the words of every sentence it reads, about 2,000 words.
    return str(_stemmer().stemWord(word))


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words in order."""
    return list(_terms(text))


@lru_cache(maxsize=65536)
def _terms(text: str) -> tuple[str, ...]:
    # Passage sentences are read again for every question that retrieves them.
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    return tuple(_stemmer().stemWords(words))  # one call for the sentence


def question_terms(text: str, vocabulary: Vocabulary | None = None) -> set[str]:
    """A question's stemmed content words plus the sources' words for the same ideas."""
    vocabulary = vocabulary or default_vocabulary()
    lower = text.lower()
    words = [w for w in _WORD.findall(lower) if len(w) > 1]
    out = {stem(w) for w in words if w not in STOPWORDS}
    for match in vocabulary.lay_pattern.finditer(lower):
        out.update(stem(s) for s in vocabulary.lay_meaning(match.group(0)))
    return out


# Common short words of Spanish, French, Portuguese, German and Italian that English lacks.
_FOREIGN_FUNCTION_WORDS = frozenset(
    " ".join(
        [
            "el la los las del que en un una por para con es está qué cómo mi mis se lo al",
            "como son hay puedo ayuda le les des du est et pour avec une je mon ma mes ce qui",
            "dans pas peut o os da dos das não com um é eu meu minha pode der die das und ist",
            "nicht mit ich mein ein eine für kann wie bei il gli della che è per mio mia posso",
            "non",
        ]
    ).split()
)


def looks_non_english(text: str) -> bool:
    """At least two common words of another language, and more of them than English ones."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    foreign = sum(1 for w in words if w in _FOREIGN_FUNCTION_WORDS)
    english = sum(1 for w in words if w in STOPWORDS)
    return foreign >= 2 and foreign > english


_DRUG_STEMS: dict[int, dict[str, str]] = {}


def drug_stems(vocabulary: Vocabulary) -> dict[str, str]:
    """Stemmed one-word drug names -> their family (corpus/vocabulary.toml [[drug_family]])."""
    found = _DRUG_STEMS.get(id(vocabulary))
    if found is None:
        found = {stem(m): f for m, f in vocabulary.drug_of.items() if " " not in m}
        _DRUG_STEMS[id(vocabulary)] = found
    return found


def drug_families_in(text_terms: set[str], vocabulary: Vocabulary | None = None) -> set[str]:
    """The drug families that stemmed ``text_terms`` name."""
    stems = drug_stems(vocabulary or default_vocabulary())
    return {stems[t] for t in text_terms if t in stems}


def asked_drugs_of(q_terms: set[str], vocabulary: Vocabulary | None = None) -> set[str]:
    """The drug families a question's stemmed terms name."""
    return drug_families_in(q_terms, vocabulary)


def about_another_drug(
    text_terms: set[str],
    asked_drugs: set[str] | frozenset[str],
    vocabulary: Vocabulary | None = None,
) -> bool:
    """Whether text (with its context) names drug families, none of them the ones asked about."""
    if not asked_drugs:
        return False
    named = drug_families_in(text_terms, vocabulary)
    return bool(named) and not named & asked_drugs


_ACRONYM_PAREN = re.compile(r"\(([A-Z][A-Za-z]{1,6})\)")
_NOT_IN_WORD_RUN = re.compile(r"[^\w\s-]")


def find_acronyms(texts: Iterable[str]) -> dict[str, str]:
    """'complex regional pain syndrome (CRPS)' -> {'crps': 'complex regional pain syndrome'}.

    Questions are matched lower-cased, so an acronym that is an everyday word ("IS", "OF",
    "WHO", which a big corpus defines) would be read into nearly every question: those are
    left out, as is a "long form" no longer than its acronym ("T (Treg)").
    """
    found: dict[str, str] = {}
    for text in texts:
        for match in _acronym_matches(text):
            acronym = match.group(2)
            if acronym.lower() in STOPWORDS:
                continue
            letters = [c.lower() for c in acronym if c.isupper()] or [acronym[0].lower()]
            words = match.group(1).split()
            # Take the shortest tail of words whose initials (hyphen parts too) spell it.
            for start in range(len(words) - 1, -1, -1):
                tail = words[start:]
                initials = [part[0].lower() for w in tail for part in w.split("-") if part]
                if initials == letters:
                    long_form = " ".join(tail).lower()
                    if len(long_form) > len(acronym):
                        found.setdefault(acronym.lower(), long_form)
                    break
    return found


def _acronym_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches ``_ACRONYM.finditer(text)`` gives, found without trying every position.

    A match's words hold only word characters, spaces and hyphens and end at "(ACRONYM)", so
    it starts after the last other character before that parenthesis: searching from there
    finds the same leftmost match. Scanning whole abstracts from every word cost seconds on
    a store of thousands of them.
    """
    if "(" not in text:
        return
    stops = [m.start() for m in _NOT_IN_WORD_RUN.finditer(text)]
    for paren in _ACRONYM_PAREN.finditer(text):
        before = bisect.bisect_left(stops, paren.start()) - 1
        start = stops[before] + 1 if before >= 0 else 0
        match = _ACRONYM.search(text, start, paren.end())
        if match is not None:
            yield match


@dataclass(frozen=True)
class LexiconStats:
    """The word statistics of a set of passages (what Lexicon needs of their texts); kept
    with the keyword index (bot/corpus_index.py) so a start need not recount them."""

    n_docs: int
    df: Mapping[str, int]
    """Stemmed content term -> number of passages holding it."""
    words: tuple[str, ...]
    """Distinct lower-cased words of five letters or more, sorted (spelling candidates)."""
    acronyms: Mapping[str, str]

    @classmethod
    def of(cls, texts: Sequence[str]) -> LexiconStats:
        df: Counter[str] = Counter()
        words: set[str] = set()
        for text in texts:
            df.update(set(terms(text)))
            words.update(w for w in _WORD.findall(text.lower()) if len(w) >= 5)
        return cls(max(1, len(texts)), dict(df), tuple(sorted(words)), find_acronyms(texts))

    def to_json(self) -> dict[str, Any]:
        return {
            "n_docs": self.n_docs,
            "df": dict(self.df),
            "words": list(self.words),
            "acronyms": dict(self.acronyms),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LexiconStats:
        return cls(
            int(data["n_docs"]),
            {str(k): int(v) for k, v in data["df"].items()},
            tuple(str(w) for w in data["words"]),
            {str(k): str(v) for k, v in data["acronyms"].items()},
        )


class Lexicon:
    """IDF weights and acronyms of one set of passages; rebuilt when the store changes."""

    def __init__(
        self,
        texts: Sequence[str] = (),
        vocabulary: Vocabulary | None = None,
        stats: LexiconStats | None = None,
    ) -> None:
        """From the passages' ``texts``, or their ``stats`` counted before."""
        self.vocabulary = vocabulary or default_vocabulary()
        stats = stats or LexiconStats.of(texts)
        self._words_by_start: dict[str, list[str]] = {}
        for word in stats.words:
            self._words_by_start.setdefault(word[0], []).append(word)
        self._corrections: dict[str, str | None] = {}
        self._word_of_stem: dict[str, str] = {}
        for word in sorted(stats.words, key=len):
            self._word_of_stem.setdefault(stem(word), word)
        self._stems = sorted(self._word_of_stem)
        self.n_docs = stats.n_docs
        self._df = stats.df
        self.acronyms = stats.acronyms

    def idf(self, term: str) -> float:
        return math.log(1 + (self.n_docs + 1) / (self._df.get(term, 0) + 0.5))

    def used(self, term: str) -> bool:
        """Whether any passage holds this stemmed term."""
        return term in self._df

    def correct(self, word: str) -> str | None:
        """The corpus word a misspelled question word most likely means ("migranes")."""
        # Six letters at least: a short real word is too often one edit from another
        # ("drive" -> "driven").
        if len(word) < 6 or word in STOPWORDS or self._df.get(stem(word)):
            return None
        if word in self._corrections:
            return self._corrections[word]
        # 0.85: "migranes" -> "migraines" (0.94), "netwrok" -> "network" (0.86), but not
        # "medicare" -> "medical" (0.80), a different thing.
        # Only words with the same first letter: "esketamine" is not a misspelled "ketamine".
        from wordfreq import zipf_frequency

        if zipf_frequency(word, "en") >= COMMON_WORD_ZIPF:
            # A common English word is no misspelling: "interactions" is not "integration",
            # nor "shingles" "single". Only another form of a corpus word stands for it.
            corrected = self._another_form(word)
        else:
            same_start = self._words_by_start.get(word[0], [])
            match = process.extractOne(
                word, same_start, scorer=fuzz.ratio, score_cutoff=SPELLING_CUTOFF
            )
            corrected = str(match[0]) if match else self._another_form(word)
        if len(self._corrections) < 50_000:  # bounded: questions are open-ended text
            self._corrections[word] = corrected
        return corrected

    def _another_form(self, word: str) -> str | None:
        """A corpus word of ``word``'s family: one whose stem starts with ``word``'s stem
        (FAMILY_ROOT letters or more: "glutamate" -> the sources' "glutamatergic"), or with all
        but its last letter when that stem is longer ("responds" -> "response"; not
        "medicare" -> "medical", whose stem is "medic")."""
        root = stem(word)
        if len(root) < FAMILY_ROOT:
            return None
        starts = [root] if len(root) == FAMILY_ROOT else [root, root[:-1]]
        for start in starts:
            at = bisect.bisect_left(self._stems, start)
            family = []
            for candidate in self._stems[at:]:
                if not candidate.startswith(start):
                    break  # sorted: the stems that share the start are together
                family.append(candidate)
            if family:
                return self._word_of_stem[min(family, key=len)]
        return None

    def found_in(self, word: str, text_terms: set[str]) -> bool:
        """Whether the sources' ``text_terms`` hold ``word``, its correct spelling or a word
        the sources use for the same idea."""
        candidates = [word, *self.vocabulary.lay_meaning(word)]
        if corrected := self.correct(word):
            candidates.append(corrected)
        if any(stem(c) in text_terms for c in candidates):
            return True
        # A misspelling whose nearest corpus word is another form of the same word:
        # "differnce" -> stem "differnc" ~ "differ" (from "different"; 0.86).
        if len(word) < 7 or word in STOPWORDS:
            return False
        # Same first three letters: a misspelling keeps its start, while "esketamine" must
        # not pass for "ketamine".
        long_terms = [t for t in text_terms if len(t) >= 5 and t[:3] == word[:3]]
        return (
            process.extractOne(stem(word), long_terms, scorer=fuzz.ratio, score_cutoff=85.0)
            is not None
        )

    def expand(self, query: str) -> str:
        """Append corrected spellings, the sources' words for patient words, and the
        spelled-out form of any acronym the sources define (and vice versa)."""
        lower = query.lower()
        extra = []
        words = set(_WORD.findall(lower))
        corrected = {c for w in words if (c := self.correct(w))}
        if corrected:
            extra.append(" ".join(sorted(corrected)))
            words |= corrected
        synonyms = {
            s
            for m in self.vocabulary.lay_pattern.finditer(f"{lower} {' '.join(sorted(corrected))}")
            for s in self.vocabulary.lay_meaning(m.group(0))
            if s not in words
        }
        author = self.vocabulary.author_name_words
        if synonyms & author and self.vocabulary.sources_named(lower):
            # "Who wrote the 2018 guideline?" asks who wrote that source, not the article.
            synonyms -= author
        for acronym, long_form in self.acronyms.items():
            # Substring first: a big corpus defines thousands of acronyms, and compiling a
            # pattern for each one on every question cost more than the rest of the answer.
            named = acronym in lower and _has_words(acronym, lower)
            spelled = long_form in lower and _has_words(long_form, lower)
            if named and not spelled:
                extra.append(long_form)
            elif spelled and not named:
                extra.append(acronym.upper())
        if synonyms:
            extra.append(" ".join(sorted(synonyms)))
        return f"{query} ({'; '.join(extra)})" if extra else query


def _has_words(words: str, text: str) -> bool:
    """Whether ``text`` holds ``words`` as whole words (both lower-cased)."""
    return re.search(rf"\b{re.escape(words)}\b", text) is not None
