"""Question -> QuestionAnalysis: what is asked, computed once and read by every later step.

The analysis separates the part of a message that asks something from the statements around
it ("My mom has had shingles pain for two years. What does research say about ketamine for
it?"), weighs each content word by how specific it is in general English (wordfreq), corrects
spelling against the corpus's own words, names the drugs and conditions, maps patient words to
the sources' words (corpus/vocabulary.toml), tells a request for personal advice from a personal
detail, resolves short follow-ups against earlier turns and builds the search query.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from bot.lexicon import Lexicon, drug_families_in, looks_non_english, stem
from bot.question_parts import question_parts
from bot.vocabulary import Vocabulary

CONTRACTION_ZIPF = 2.5
"""Zipf frequency (wordfreq) from which "<stopword>n't" counts as an English contraction."""
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CLITIC = re.compile(r"'(?:s|re|ve|ll|d|m)$|n't$")
"""A clitic ("mine's", "wife's", "you're", "shouldn't"): the word is what is left, so a negated
stopword ("shouldn't", "wasn't") is a stopword too."""
# Where a sentence starts asking: a question word at the start of the sentence or of a clause.
_ASKING = (
    r"what|what's|whats|wat|how|why|when|where|which|who|whose|is|isn't|are|aren't|was|were|"
    r"does|doesn't|do|don't|did|can|cant|can't|could|should|would|will|has|have|any|"
    r"tell me|explain|describe|i want to know|i'd like to know|i would like to know|"
    r"i want to understand|i'd like to understand|i'm wondering|im wondering|wondering|"
    r"i'm curious|im curious|curious"
)
_ASK_CUE = re.compile(rf"(?:^|[,:]\s*|\b(?:but|so|and|or|ok|okay|anyway)\s+)(?P<ask>{_ASKING})\b")
_SENTENCE_END = re.compile(r"(?:(?<=[.?!;])|(?<=[.?!;][\"'\u201d)]))\s+|\n+")
"""Where a sentence ends: after its stop, or after a closing quote or bracket that follows it
('... a ketamine "protocol." What did ...')."""
_CONTINUES = re.compile(r"^(what about|how about|and |what of|and what|ok and|so |also )")
"""Opening words that carry on from the earlier turn ("And afterwards, can you drive?")."""
_BACK_POINTER = re.compile(
    r"(?<!\bfor )(?<!\bwith )(?<!\bw )(?<!\babout )(?<!\bon )(?<!\bin )(?<!\bto )(?<!\bof )"
    r"(?<!\bfrom )(?<!\blike )(?<!\ball )\b(?:that|this|those|these)\s*(?:[?.!,;]|$|"
    r"\s(?:or|and|true|real|right|correct|accurate|legit|actually|really|claim|claims|"
    r"statement|stuff|part|idea)\b)"
    r"|^(?:is|was|are|were|does|did|do|can|could|would|will|has|have)\s+"
    r"(?:that|this|these|those)\b(?!\s+(?:mean|means|meant)\b)"
)
"""A pronoun standing for a whole earlier statement ("... even address that, or ...", "is
this true?", "is that even a journal?"), not one that starts a clause ("is it true that
ketamine ...", "does that mean ...") or names a thing after a preposition ("ketamine for
that?": the condition just named)."""
_ALTERNATIVE = re.compile(
    r"(?:,\s*|\s+)or\s+(?:(?:is|are|was|were|does|do|did)\s+(?:[a-z0-9']+\s+){0,3}?)?"
    r"(?:just|all|simply|merely|mostly)\b[^?.!;]*"
)
"""The dismissive other answer a question offers ("..., or is six just a sales number?", "or
just hype"): its words the corpus lacks are a stance on the question, not a topic it asks
about. An alternative that narrows the question ("or is it only adults?") is a real one."""
_ANAPHORA = re.compile(_CONTINUES.pattern + r"|\b(it|that|this|they|them|those|these|there)\b")
_POINTER = re.compile(r"\b(?:it|that|this|they|them|those|these)\b")
_ELLIPSIS = re.compile(
    r"^(?:ok |okay |so )?(?:what about|how about|and what about|what of|and in|and for)\b"
)
"""A follow-up that swaps one thing of the question before for another ("what about in
canada?"): it keeps that question's subject, whatever the new word is."""
_PERSONAL_WORDS = re.compile(
    r"\b(i|i'm|im|i've|me|my|mine|myself|should|could|can|would|will|do|am|take|taking|"
    r"start|stop|quit|try|get|okay|ok|safe for|how much|how many)\b"
)
SPECIFIC_ZIPF = 7.0
"""General-English frequency (Zipf scale) at and above which a word carries no specificity."""
ZIPF_SPAN = 4.0
"""Zipf range over which specificity rises from 0 to 1 (a word at 3.0 or rarer counts fully):
"children" (5.0) is 0.5, "ketamine" (2.9) is 1."""
TOPICAL = 0.5
"""Specificity from which a lay word alone makes a message about pain care ("fibro", not
"last") and an unknown word makes a short message a new question rather than a follow-up."""
MAX_FOLLOW_UP_TERMS = 3
"""A message with at most this many content words, after an earlier turn, is a follow-up."""


@dataclass(frozen=True)
class Term:
    """One content word of the question."""

    word: str
    """As typed, lower-cased."""
    stem: str
    specificity: float
    """0 for words common in general English ("really"), 1 for rare ones ("fibromyalgia")."""
    corrected: str = ""
    """The corpus word a misspelling was taken for ("migranes" -> "migraines"), if any."""
    asked: bool = True
    """In the part that asks something (False: in the statements around it)."""
    known: bool = False
    """The corpus holds the word (or its correction, or a source word for it)."""


@dataclass(frozen=True)
class QuestionAnalysis:
    """Everything later steps need to know about one question, computed once."""

    question: str
    """As typed (valid Unicode)."""
    text: str
    """Normalised: lower-case, plain quotes, single spaces."""
    language: str
    """'en', or 'other' when the message reads as another language."""
    asked: str
    """The part of the message that asks something (the whole text when no part stands out)."""
    context: str
    """Statements around the asked part (backstory), possibly empty."""
    terms: tuple[Term, ...]
    drugs: frozenset[str]
    """Drug families named (corpus/vocabulary.toml [[drug_family]])."""
    conditions: tuple[str, ...]
    source_words: tuple[str, ...]
    """The sources' words for the patient words used ("drip" -> infusion)."""
    about_sources: bool
    """Asks about the sources themselves (who wrote, which references, a study)."""
    about_article: bool
    """Names the article itself ("this article")."""
    about_author: bool
    """Asks who wrote it or names the author."""
    personal: str
    """'' (a general question), 'request' (asks a decision about someone's own care) or
    'always' (mixing drugs, doses, pregnancy for oneself, starting or stopping)."""
    general: str
    """The general question left when the personal request is set aside ('' when none)."""
    role_play: bool
    """Tries to change the bot's rules or make it play a character."""
    on_topic: bool
    """Names a pain-care word (drug, condition, topic word); else the router compares it with
    examples of off-topic messages."""
    follow_up: bool
    resolved: str
    """The asked text with the topic words of earlier turns, for a follow-up; else ``asked``."""
    query: str
    """The search query: resolved text plus context terms, corrections and source words."""
    disagreement_topics: tuple[str, ...]
    """Topics of corpus/vocabulary.toml [[disagreement]] that the question names."""
    parts: tuple[str, ...] = ()
    """The parts of a question that asks several things ("what is ketamine and how long does
    relief last?"), each to be answered or named as not covered; empty for one question. A
    follow-up's parts are those of its own words: the topic words resolving it are no part."""
    topic: str = ""
    """A follow-up's topic words from earlier turns (what ``resolved`` adds to its words)."""
    sources: frozenset[str] = frozenset()
    """Ids of the corpus sources the message names (corpus/vocabulary.toml [[source_name]])."""

    @property
    def asked_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.asked)

    @property
    def request(self) -> str:
        """The sentences of the asked part that ask (end in "?"), or its last sentence: a long
        message may keep its story in the asked part ("I've had migraines since I was a
        teenager ... I just want to know what the studies found")."""
        sentences = [s.strip() for s in _SENTENCE_END.split(self.asked) if s.strip()]
        asking = [s for s in sentences if s.rstrip("\"'\u201d) ").endswith("?")]
        return " ".join(asking or sentences[-1:])


def stands_alone(analysis: QuestionAnalysis) -> bool:
    """Whether a question (a part of a longer one, analysed alone) can be answered without
    the rest: it names its drug or condition and does not point back ("does it work for
    pain?" after "Is Spravato just ketamine?" is about Spravato)."""
    return bool(analysis.drugs or analysis.conditions) and not _ANAPHORA.search(analysis.text)


def part_in_context(part: str, analysis: QuestionAnalysis) -> str:
    """A part of a multi-part question, with the drugs and conditions of the whole question
    it does not name: "how many hrs" in a question about ketamine is read as about ketamine,
    as a follow-up is read with its topic."""
    lower = part.lower()
    subject = [
        w
        for w in dict.fromkeys([*sorted(analysis.drugs), *analysis.conditions])
        if w.lower() not in lower
    ]
    if analysis.topic:
        subject.append(analysis.topic)
    return f"{part} ({', '.join(subject)})" if subject else part


def normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=20000)
def specificity(word: str) -> float:
    """How specific a word is: 1 - its general-English frequency scaled to [0, 1]."""
    from wordfreq import zipf_frequency

    zipf = zipf_frequency(word, "en")
    return min(1.0, max(0.0, (SPECIFIC_ZIPF - zipf) / ZIPF_SPAN))


ENGLISH_WORDS = 30000
"""Most frequent English words (wordfreq) a typo of a common word is corrected to."""
TYPO_ZIPF_GAP = 1.0
"""A typo's correction must be this much more frequent than the typo ("actualy" -> "actually")."""


@lru_cache(maxsize=1)
def _english_by_start() -> dict[str, list[str]]:
    from wordfreq import top_n_list

    out: dict[str, list[str]] = {}
    for word in top_n_list("en", ENGLISH_WORDS):
        if word.isalpha() and len(word) > 2:
            out.setdefault(word[0], []).append(word)
    return out


@lru_cache(maxsize=20000)
def english_correction(word: str) -> str:
    """The common English word a typo most likely is ("actualy" -> "actually"), or ''."""
    from rapidfuzz import fuzz, process
    from wordfreq import zipf_frequency

    if len(word) < 3 or not word.isalpha():
        return ""
    match = process.extractOne(
        word, _english_by_start().get(word[0], []), scorer=fuzz.ratio, score_cutoff=85.0
    )
    if match is None or match[0] == word:
        return ""
    better = zipf_frequency(match[0], "en") - zipf_frequency(word, "en") >= TYPO_ZIPF_GAP
    return str(match[0]) if better else ""


def split_asked(text: str, pieces: Sequence[tuple[str, bool]] | None = None) -> tuple[str, str]:
    """(asked part, context): sentences that ask something, from their first question word on,
    versus the statements around them. No asking sentence: the whole text is asked.
    ``pieces``: the text's `_asked_pieces`, when already made."""
    pieces = _asked_pieces(text) if pieces is None else pieces
    asked = [piece for piece, asks in pieces if asks]
    if not asked:
        return text, ""
    return " ".join(asked), " ".join(piece for piece, asks in pieces if not asks)


def pointed_at(
    text: str, pieces: Sequence[tuple[str, bool]] | None = None, subjectless: bool = False
) -> str:
    """The statement just before the first asked part when that part points back to it
    ("fibro + ket infusions.. does it work?"), or, when the asked part names no subject of
    its own (``subjectless``), simply follows it ("opioids vs ket... what's the difference");
    "" otherwise."""
    pieces = _asked_pieces(text) if pieces is None else pieces
    for i, (piece, asks) in enumerate(pieces):
        if asks:
            before = pieces[i - 1] if i else ("", True)
            points = subjectless or bool(_POINTER.search(piece))
            return before[0] if not before[1] and points else ""
    return ""


def _asked_pieces(text: str) -> list[tuple[str, bool]]:
    """The text's sentences (split at a question word inside a statement) in order, each
    with whether it asks something."""
    pieces: list[tuple[str, bool]] = []
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    # With a question mark somewhere, a question word after "and", "but" or "so" inside a
    # statement ("... and did nothing for me.") is part of the story, not a question.
    marked = any(s.endswith("?") for s in sentences)
    for sentence in sentences:
        cue = _ASK_CUE.search(sentence)
        if cue is not None and marked and not sentence.endswith("?"):
            joined_by = sentence[cue.start() : cue.start("ask")].strip(" ,:")
            # ... and after a comma it asks only behind a single word ("also, can she take
            # it."), not behind a subject ("my father, 74, has had burning pain since.").
            if joined_by or len(sentence[: cue.start()].split()) > 1:
                cue = None
        if cue is None and not sentence.endswith("?"):
            pieces.append((sentence, False))
            continue
        start = cue.start("ask") if cue else 0
        if start:
            pieces.append((sentence[: cue.start()].strip(" ,:") if cue else "", False))
        pieces.append((sentence[start:].lstrip(" ,:"), True))
    return pieces


def _terms(text: str, asked: bool, lexicon: Lexicon | None, vocabulary: Vocabulary) -> list[Term]:
    out = []
    phrased = _lay_phrase_words(text, lexicon, vocabulary)
    for token in _WORD.findall(text):
        word = token if token in vocabulary.stopwords else _CLITIC.sub("", token)
        if word in vocabulary.stopwords or len(word) < 2 or word.isdigit():
            continue
        if _negated_stopword(word, vocabulary):
            continue
        corrected = (lexicon.correct(word) if lexicon else None) or ""
        spelled = corrected or word
        known = lexicon is not None and (word in phrased or _known(spelled, lexicon, vocabulary))
        if lexicon is not None and not known:
            # A typo of a common word ("actualy", "dangerus") is that word: maybe a stopword or
            # a lay word, never a rare one.
            common = english_correction(word)
            if common in vocabulary.stopwords:
                continue
            spelled = common or spelled
            known = bool(common) and _known(common, lexicon, vocabulary)
        elif lexicon is not None and not corrected and not _in_english(word):
            # Another form of a corpus word, misspelt ("studys"): as specific as the real one.
            common = english_correction(word)
            if common and stem(common) == stem(word):
                spelled = corrected = common
        out.append(Term(word, stem(spelled), specificity(spelled), corrected, asked, known))
    return out


def _lay_phrase_words(text: str, lexicon: Lexicon | None, vocabulary: Vocabulary) -> set[str]:
    """The words of each lay phrase in the text ("in recovery", "word of mouth") whose
    sources' words the corpus uses: known, as a one-word lay term is."""
    if lexicon is None:
        return set()
    return {
        word
        for match in vocabulary.lay_pattern.finditer(text.lower())
        if " " in match.group(0) and _known(match.group(0), lexicon, vocabulary)
        for word in _WORD.findall(match.group(0))
    }


def _negated_stopword(word: str, vocabulary: Vocabulary) -> bool:
    """A negated stopword typed without its apostrophe ("shouldnt", "wasnt"): a stopword too,
    as "shouldn't" is. Only where "<word>n't" is a common English word, so "went" is not "we"."""
    from wordfreq import zipf_frequency

    base = word[:-2]
    return (
        word.endswith("nt")
        and base in vocabulary.stopwords
        and zipf_frequency(f"{base}n't", "en") >= CONTRACTION_ZIPF
    )


def _known(word: str, lexicon: Lexicon, vocabulary: Vocabulary) -> bool:
    """Whether the corpus uses the word, or the sources' words for it ("drips": infusion)."""
    return lexicon.used(stem(word)) or any(
        lexicon.used(stem(s)) for s in vocabulary.lay_meaning(word)
    )


def _in_english(word: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= 1.0


def _frames(term: Term, vocabulary: Vocabulary) -> bool:
    """A word that only frames a question as about the research: "studies" (or "studys"),
    or a lay word for the evidence ("legit", "hype", "reddit")."""
    framing = vocabulary.research_pattern
    meanings = vocabulary.lay_meaning(term.word)
    return bool(framing.fullmatch(term.corrected or term.word)) or (
        bool(meanings) and all(framing.fullmatch(m) for m in meanings)
    )


def _topical(term: Term) -> bool:
    """A corpus word specific enough to carry a subject from one sentence to the next."""
    return term.known and term.specificity >= 0.4


def _subject(term: Term) -> bool:
    """A word that can be what a sentence is about: a specific corpus word, or a rare word the
    corpus lacks ("iboga")."""
    return _topical(term) or (not term.known and term.specificity >= TOPICAL)


def _topic_words(text: str, vocabulary: Vocabulary) -> list[str]:
    return [
        w
        for w in re.findall(r"[a-z][a-z0-9-]+", text.lower())
        if w not in vocabulary.stopwords and w not in ("bad", "good")
    ]


def resolve_follow_up(
    question: str, history: Sequence[str], vocabulary: Vocabulary, continues: bool = False
) -> str:
    """A short or pointing-back question plus the topic words of earlier turns, newest first.
    ``continues``: the message opened with words that carry on from the earlier turn, which
    the asked part (``question``) may have left behind."""
    if not history:
        return question
    own = _topic_words(question, vocabulary)
    if len(own) > MAX_FOLLOW_UP_TERMS and not continues and not _ANAPHORA.search(question.lower()):
        return question
    seen = set(own)
    extra: list[str] = []
    for turn in reversed(history):
        for word in _topic_words(turn, vocabulary):
            if word not in seen:
                seen.add(word)
                extra.append(word)
    return f"{question} {' '.join(extra)}".strip() if extra else question


def general_form(text: str) -> str:
    """'how much ketamine should i take for my back pain' -> 'ketamine for back pain': the
    general topic of a personal request, for finding general information on it."""
    general = " ".join(_PERSONAL_WORDS.sub(" ", text).split())
    return general if len(general.split()) >= 2 else text


def _personal(text: str, asked: str, vocabulary: Vocabulary) -> tuple[str, str]:
    """(kind, general question left) for a message; kind '' when no advice is asked."""
    if vocabulary.always_personal_anywhere_pattern.search(text):
        return "always", ""
    if any(
        not _treatment_follows(asked[m.end() :], vocabulary)
        for m in vocabulary.always_personal_pattern.finditer(asked)
    ):
        return "always", ""
    sentences = [s for s in _SENTENCE_END.split(asked) if s.strip()]
    disclaimer = vocabulary.disclaimer_pattern
    requests = [
        s
        for s in sentences
        if vocabulary.request_pattern.search(s)
        and not vocabulary.research_pattern.search(s)
        and not (disclaimer and disclaimer.search(s))
    ]
    if not requests:
        return "", ""
    rest = [s for s in sentences if s not in requests]
    general = " ".join(rest) if rest else general_form(text)
    return "request", general


def _stance_not_asked(
    terms: list[Term], target: str, lexicon: Lexicon | None, vocabulary: Vocabulary
) -> list[Term]:
    """``terms`` with the words the corpus lacks that only stand in the other answer a
    question offers ("or is that just clinic marketing?") marked as not asked."""
    inside = " ".join(m.group(0) for m in _ALTERNATIVE.finditer(target))
    if not inside:
        return terms
    outside = _ALTERNATIVE.sub(" ", target)
    elsewhere = {t.word for t in _terms(outside, True, lexicon, vocabulary)}
    stance = {
        t.word
        for t in _terms(inside, True, lexicon, vocabulary)
        if not t.known and t.word not in elsewhere
    }
    return [replace(t, asked=False) if t.asked and t.word in stance else t for t in terms]


_FILLER = re.compile(
    r"\s*(?:(?:it|ketamine|ket|this|that|with|and|a|an|some|the|talk|regular|weekly|more)\s+){0,4}"
)


def _treatment_follows(after: str, vocabulary: Vocabulary) -> bool:
    """Whether a mixing phrase's object is a treatment that is not a drug ("combine it with
    CBT and mindfulness"): then it asks about therapy alongside ketamine, not a drug mix."""
    filler = _FILLER.match(after)  # always matches, perhaps nothing
    rest = after[filler.end() :] if filler else after
    return vocabulary.not_drug_pattern.match(rest) is not None


def _with_earlier_drug(
    target: str, text: str, history: Sequence[str], vocabulary: Vocabulary
) -> str:
    """A message naming a source keeps its own subject, but "it" in a message naming no drug
    is the drug the conversation was about: after "What did the 2018 guideline say ketamine
    helps?", "were there people the guideline said shouldn't get it?" asks about ketamine.
    (A drug word in the source's own name counts: in "the Psychedelics Today one, what
    conference was it about?", "it" is the report.)"""
    if not history or not _POINTER.search(target) or vocabulary.drug_pattern.search(text):
        return target
    for turn in reversed(history):
        named = vocabulary.drug_pattern.findall(vocabulary.spell_out(normalise(turn)))
        if named:
            return f"{target} {named[-1]}"
    return target


def understand(
    question: str,
    history: Sequence[str],
    vocabulary: Vocabulary,
    lexicon: Lexicon | None = None,
) -> QuestionAnalysis:
    """Analyse ``question`` once (``lexicon`` adds spelling and corpus-word knowledge)."""
    text = vocabulary.spell_out(normalise(question))
    pieces = _asked_pieces(text)
    asked, context = split_asked(text, pieces)
    personal, general = _personal(text, asked, vocabulary)
    target = general if personal == "request" and general else asked
    # A message naming a source has its subject ("so that Psychedelics Today thing, is it a
    # study?"); only a swap ("what about the 2023 review?") keeps the earlier question's topic.
    sources = vocabulary.sources_named(text)
    names_own_source = bool(sources) and not _ELLIPSIS.match(text)
    resolved = (
        _with_earlier_drug(target, text, history, vocabulary)
        if names_own_source
        else resolve_follow_up(
            target,
            [vocabulary.spell_out(normalise(t)) for t in history],
            vocabulary,
            bool(_CONTINUES.match(text)),
        )
    )
    follow_up = resolved != target or (bool(history) and bool(personal))
    own_terms = _terms(resolved, True, lexicon, vocabulary)
    # An asked part without a subject of its own that points back ("... does it work?") asks
    # about the statement just before it: that statement's subject words are asked too.
    # Words that only frame a question as about the research ("... is that in the studies?")
    # name no subject of their own. An asked part with no subject at all asks about the
    # statement it follows even without a pronoun ("opioids vs ket... what's the difference"),
    # but then only that statement's corpus words are its subject, not its every rare word
    # ("MDMA for pain sounds like a stretch. what's the evidence?" is not about stretching).
    # Only the first asked sentence can point back to the statement before it; a later asked
    # sentence's own subject says nothing about what the first one refers to.
    first = next((piece for piece, asks in pieces if asks), "")
    first_terms = _terms(first, True, lexicon, vocabulary) if first != asked else own_terms
    pointed, by_pronoun = "", True
    if target == asked and _BACK_POINTER.search(_ALTERNATIVE.sub(" ", first)):
        # "I read it wrecks your bladder. Does the research even address that?": whatever
        # words the asked sentence has, "that" is the statement before.
        pointed = pointed_at(text, pieces)
    elif target == asked and not any(
        _topical(t) and not _frames(t, vocabulary) for t in first_terms
    ):
        pointed = pointed_at(text, pieces)
        if not pointed and not any(_subject(t) and not _frames(t, vocabulary) for t in own_terms):
            pointed, by_pronoun = pointed_at(text, pieces, subjectless=True), False
    around = _terms(context, False, lexicon, vocabulary)
    if pointed:
        subject = {
            t.word
            for t in _terms(pointed, True, lexicon, vocabulary)
            if (_subject(t) if by_pronoun else _topical(t))
        }
        around = [replace(t, asked=True) if t.word in subject else t for t in around]
    terms = _stance_not_asked(own_terms, target, lexicon, vocabulary) + around
    own = _terms(target, True, lexicon, vocabulary) if follow_up else terms
    # A word the corpus lacks and general English rarely uses ("tokyo") starts a new subject.
    new_subject = not _ELLIPSIS.match(target) and any(
        not t.known and t.specificity >= TOPICAL for t in own if t.asked
    )
    lay_topic = any(
        specificity(vocabulary.lay_word(m.group(0))) >= TOPICAL
        for m in vocabulary.lay_pattern.finditer(target)
    )
    on_topic = (
        bool(vocabulary.topic_pattern.search(target))
        or names_own_source
        or lay_topic
        or (follow_up and not new_subject)
        or (bool(personal) and bool(vocabulary.topic_pattern.search(text)))
        or (bool(pointed) and bool(vocabulary.topic_pattern.search(pointed)))
    )
    # Corpus words of the backstory travel with the search ("that kind of pain" after
    # "shingles"); its other words do not.
    context_words = [t.word for t in terms if not t.asked and _topical(t)]
    context_words += [t.word for t in around if t.asked]
    base = f"{resolved} {' '.join(context_words)}".strip()
    query = lexicon.expand(base) if lexicon else base
    stems = {t.stem for t in terms}
    lay = [m.group(0) for m in vocabulary.lay_pattern.finditer(f"{resolved} {context}")]
    # A misspelt lay word ("dangerus") means what the word means.
    lay += [english_correction(t.word) for t in terms if not t.corrected and not t.known]
    lay += [english_correction(t.word) for t in terms if t.known and not _in_english(t.word)]
    source_words = tuple(dict.fromkeys(s for w in lay for s in vocabulary.lay_meaning(w)))
    drugs = frozenset(
        {vocabulary.drug_of[m.group(0)] for m in vocabulary.drug_pattern.finditer(text)}
        | drug_families_in(stems, vocabulary)
    )
    if follow_up and not drugs:
        drugs = frozenset(
            vocabulary.drug_of[m.group(0)] for m in vocabulary.drug_pattern.finditer(resolved)
        )
    about_article = bool(vocabulary.article_pattern.search(text))
    rest = vocabulary.article_pattern.sub(" ", resolved)
    about_author = bool(vocabulary.author_pattern.search(resolved))
    return QuestionAnalysis(
        question=question,
        text=text,
        language="other" if looks_non_english(question) else "en",
        asked=asked,
        context=context,
        terms=tuple(terms),
        drugs=drugs,
        conditions=tuple(m.group(0) for m in vocabulary.condition_pattern.finditer(text)),
        source_words=source_words,
        about_sources=bool(
            vocabulary.source_pattern.search(
                vocabulary.author_pattern.sub(" ", rest) if about_article else resolved
            )
        ),
        about_article=about_article,
        about_author=about_author,
        personal=personal,
        general=general,
        role_play=bool(vocabulary.role_play_pattern.search(text)),
        on_topic=on_topic,
        follow_up=follow_up,
        resolved=resolved,
        query=query,
        disagreement_topics=tuple(
            d.topic
            for d in vocabulary.disagreements
            if any(re.search(rf"\b{re.escape(m)}", f"{resolved} {context}") for m in d.match)
        ),
        parts=tuple(p for p in question_parts(target) if p != target.strip()),
        topic=resolved[len(target) :].strip() if resolved.startswith(target) else "",
        sources=sources,
    )
