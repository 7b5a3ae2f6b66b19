"""Question -> safety verdict (crisis, personal advice, off topic, fine) before any retrieval."""

from __future__ import annotations

import difflib
import re
import unicodedata

from bot.types import Verdict

# Keyword backstops. Crisis wins over everything else, so these lean toward recall.
_CRISIS_PHRASES = (
    "kill myself",
    "killing myself",
    "suicide",
    "suicidal",
    "end my life",
    "end it all",
    "want to die",
    "wanna die",
    "dont want to live",
    "don't want to live",
    "no reason to live",
    "better off dead",
    "hurt myself",
    "harm myself",
    "self harm",
    "self-harm",
    "cut myself",
    "cutting myself",
    "overdose",
    "overdosed",
    "od'd",
    "took too many",
    "took too much",
    "taken too much",
    "too many pills",
    "swallowed all",
    "chest pain",
    "chest hurts",
    "chest is tight",
    "crushing chest",
    "can't breathe",
    "cant breathe",
    "cannot breathe",
    "trouble breathing",
    "hard to breathe",
    "not breathing",
    "stroke",
    "face drooping",
    "slurred speech",
    "throat is closing",
    "throat closing",
    "anaphyla",
    "passed out",
    "unconscious",
    "seizure",
    "kms",
    "unalive",
    "quiero morir",
    "suicidarme",
    "matarme",
    "me quiero matar",
    "je veux mourir",
    "ich will sterben",
    "quero morrer",
)
_CRISIS_WORDS = ("suicide", "suicidal", "overdose", "breathe", "unalive")
# Research questions that mention crisis words but are not emergencies.
_RESEARCH_CONTEXT = re.compile(
    r"\b(research|studies|study|evidence|used for|treat|treatment of|help with|does ketamine)\b"
)
_FIRST_PERSON = re.compile(r"\b(i|i'm|im|me|my|myself)\b")

_PERSONAL = re.compile(
    r"\b(my dose|my doctor|should i|can i|could i|do i|am i|is it safe for me|safe for me|"
    r"for me|i'm pregnant|im pregnant|pregnan\w*|breast ?feed\w*|nursing|with my|i take|"
    r"i am taking|i'm taking|im taking|how much should)\b"
)
# Mixing and interaction questions are personal only when asked about the patient's own drugs.
_MIXING = re.compile(r"\b(mix\w*|combin\w*|interact\w*|together with|along with)\b")

_INJECTION = re.compile(
    r"(ignore (all |your |the |previous )*(instructions|rules)|system prompt|your instructions|"
    r"pretend to be|jailbreak|developer mode|reveal your)"
)
_TOPIC = re.compile(
    r"(ketamin|psilocyb|psychedel|lsd|mdma|pain|crps|fibromyalg|migrain|neuropath|infusion|"
    r"nmda|esketamin|dose|side effect|treatment|therapy|drug|medic|opioid|depress|ayahuasca|"
    r"mushroom|dmt|doctor|clinic|nerve|phantom|arthrit|cancer|insurance|cost|sensiti|article|author|source|guideline|study|studies|research)"
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip()


def _fuzzy_crisis_word(text: str) -> bool:
    """Catch misspellings like 'suicidel' or 'overdoze' with a close-match check per word."""
    for word in re.findall(r"[a-z']+", text):
        if len(word) >= 6 and difflib.get_close_matches(word, _CRISIS_WORDS, n=1, cutoff=0.8):
            return True
    return False


def is_crisis(question: str) -> bool:
    text = _normalise(question)
    hit = any(p in text for p in _CRISIS_PHRASES) or _fuzzy_crisis_word(text)
    if not hit:
        return False
    # "is ketamine used for depression and suicidal thoughts research?" is not an emergency,
    # but anything in the first person stays a crisis: when in doubt, crisis wins.
    if _RESEARCH_CONTEXT.search(text) and not _FIRST_PERSON.search(text):
        return False
    return True


def classify(question: str) -> Verdict:
    """Return CRISIS, PERSONAL_ADVICE, OFF_TOPIC or ANSWERED (meaning: fine to answer)."""
    text = _normalise(question)
    if is_crisis(question):
        return Verdict.CRISIS
    if _INJECTION.search(text):
        return Verdict.OFF_TOPIC
    personal = _PERSONAL.search(text) or (_MIXING.search(text) and _FIRST_PERSON.search(text))
    if personal and _TOPIC.search(text):
        return Verdict.PERSONAL_ADVICE
    if not _TOPIC.search(text):
        return Verdict.OFF_TOPIC
    return Verdict.ANSWERED
