"""Answers lead with checked plain sentences and carry their caveats (real model and store)."""

from __future__ import annotations

import pytest

from bot import prompts
from bot.cli import render_answer as cli_render_answer
from bot.compose import WORDS_LIMIT
from bot.types import Verdict
from web.render import render_answer


@pytest.mark.parametrize(
    ("question", "verdict", "must_show"),
    [
        # A benefit brings its limit.
        ("does ketamine help CRPS", Verdict.ANSWERED, ["12 weeks", "medium or long term"]),
        # "Is it true" leads with the reference's status.
        ("Is the pivotal study in Pain Medicine real?", Verdict.ANSWERED, ["has not been checked"]),
        # Personal question: the caution about what the asker named.
        (
            "I have glaucoma, can I get ketamine?",
            Verdict.PERSONAL_ADVICE,
            ["pressure inside the skull or the eye"],
        ),
        # (Alcohol makes a question always-personal on main: the advice reply alone.)
        (
            "I used to be addicted to opioids, is ketamine safe for me?",
            Verdict.PERSONAL_ADVICE,
            ["substance-use"],
        ),
        # Each part of a two-part question.
        (
            "what is ketamine and how long does the pain relief last?",
            Verdict.ANSWERED,
            ["dissociative", "12 weeks"],
        ),
        # The example questions of a plain sentence: "how does it ... pain" is the mechanism.
        ("why would ketamine make chronic pain calm down?", Verdict.ANSWERED, ["NMDA"]),
        # What the question asks leads, not a condition named only in the story around it.
        (
            "My sister gets ketamine infusions for CRPS. "
            "What do the guidelines say about getting hooked?",
            Verdict.ANSWERED,
            ["substance-use"],
        ),
        # One contraindication brings the others.
        (
            "who should not get ketamine",
            Verdict.ANSWERED,
            ["heart", "skull or the eye", "substance-use"],
        ),
        # A story about looking into clinics does not turn "who should not" into "does it work".
        (
            "My dad is 71 and we're looking into ketamine clinics for his nerve pain. Are there "
            "kinds of people who aren't supposed to get ketamine infusions at all?",
            Verdict.ANSWERED,
            ["heart", "skull or the eye", "substance-use"],
        ),
    ],
)
def test_plain_lead_and_caveats(corpus_bot, question, verdict, must_show) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer(question)
    assert answer.verdict is verdict
    lead = " ".join(p.text for p in answer.plain)
    for words in must_show:
        assert words in lead, (words, lead)


def test_who_wrote_a_named_source_leads_with_that_source_not_the_article_author(
    corpus_bot,
) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer(
        "Who actually wrote the 2018 ketamine infusion guidelines that this article leans on?"
    )
    assert answer.verdict is Verdict.ANSWERED
    assert "Three US groups" in answer.plain[0].text, [p.text for p in answer.plain]
    # Asked about the article itself, the author's bio still answers.
    article = corpus_bot.answer("who wrote this article?")
    assert "David George" in article.plain[0].text


@pytest.mark.parametrize(
    ("question", "named", "not_shown"),
    [
        # The asker names one caution: the rest of the who-should-not list is not asked.
        (
            "I'm scared about addiction. What do the guidelines say about misuse of ketamine?",
            ["substance-use"],
            ["heart disease", "skull or the eye", "psychotic"],
        ),
        # Naming several cautions brings each of them, and only them.
        (
            "I have high blood pressure and glaucoma. What conditions do the guidelines say "
            "make ketamine unsafe?",
            ["heart disease", "skull or the eye"],
            ["substance-use"],
        ),
        # Examples of the group asked about are not the asker's own conditions: the whole list.
        (
            "Is ketamine off limits for some people? Like those with heart trouble or liver "
            "disease?",
            ["heart disease", "liver", "skull or the eye", "substance-use"],
            [],
        ),
        (
            "who is told not to get ketamine infusions, for example people with heart disease?",
            ["heart disease", "liver", "skull or the eye", "substance-use"],
            [],
        ),
        # A condition the question is about, not an example of a group: that caution alone.
        ("what about mental illness like psychosis?", ["psychotic"], ["skull or the eye"]),
    ],
)
def test_a_named_caution_comes_alone_but_examples_of_a_group_bring_the_list(  # type: ignore[no-untyped-def]
    corpus_bot, question, named, not_shown
) -> None:
    answer = corpus_bot.answer(question)
    lead = " ".join(p.text for p in answer.plain)
    for words in named:
        assert words in lead, (words, lead)
    for words in not_shown:
        assert words not in lead, (words, lead)


@pytest.mark.parametrize(
    "question",
    [
        "has anyone studied ketamine or magic mushrooms for phantom limb pain?",
        "what does the research say about ketamine or psychedelics for phantom limb pain",
    ],
)
def test_each_drug_asked_about_gets_its_finding_on_the_condition(  # type: ignore[no-untyped-def]
    corpus_bot, question
) -> None:
    # The psychedelic review has more sentences near such a question; the guideline's finding
    # on ketamine for phantom limb pain was left out of the lead.
    lead = " ".join(p.text for p in corpus_bot.answer(question).plain)
    assert "weak or no evidence for low back pain, phantom limb pain" in lead, lead
    assert "too limited to show whether classic psychedelics work" in lead, lead


def test_a_question_about_what_two_drugs_are_is_not_padded_with_each_ones_lines(  # type: ignore[no-untyped-def]
    corpus_bot,
) -> None:
    lead = " ".join(
        p.text for p in corpus_bot.answer("is ketamine a real psychedelic like LSD?").plain
    )
    assert "not a classic psychedelic" in lead
    assert "Schedule I" not in lead


def test_in_general_frames_a_question_and_names_no_topic(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    # Question batch 25: "in general" was the `about` phrase of the guideline's overall
    # finding, which then led an answer about addiction with three caveats on efficacy.
    answer = corpus_bot.answer(
        "My daughter had an opioid problem a few years ago and has been clean for three years. "
        "She now has chronic pain after a car accident. What do the guidelines say, in general, "
        "about ketamine for people who've had addiction problems?"
    )
    lead = " ".join(p.text for p in answer.plain)
    assert "substance-use problem" in lead, lead
    assert "backs ketamine for some kinds of long-term pain" not in lead, lead


def test_a_part_the_sources_do_not_cover_is_named_and_the_rest_answered(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer("does ketamine help CRPS and does insurance pay for it?")
    assert answer.verdict is Verdict.ANSWERED
    assert prompts.PART_NOT_COVERED.format(part="does insurance pay for it") in answer.text
    assert "12 weeks" in " ".join(p.text for p in answer.plain)
    # Each part alone keeps its own verdict.
    assert corpus_bot.answer("does insurance pay for ketamine?").verdict is Verdict.NOT_COVERED


def test_a_short_part_is_read_with_the_question_s_subject(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer(
        "how do they do ketamine infusions for pain?? like is it one day or a bunch of days, "
        "how many hrs"
    )
    assert answer.verdict is Verdict.ANSWERED
    assert "do not cover this part" not in answer.text
    assert "4-hour infusion" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "does ketamine help fibromyalgia?",
        "what did the psychedelics today report say",
        "can psilocybin help chronic pain",
    ],
)
def test_plain_and_quoted_sentences_are_grounded(corpus_bot, question) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer(question)
    by_n = {c.n: c for c in answer.citations}
    backed = {
        (s.source_id, sec.lower()) for s in corpus_bot.aids.plain for _, sec in s.backed_by_lower()
    }
    for point in answer.plain:
        assert point.citations
        for n in point.citations:
            assert (by_n[n].source_id, by_n[n].section.lower()) in backed
    for part in answer.parts:
        for sentence, n in part.items:
            assert sentence in " ".join(by_n[n].passage.split())
            if part.heading == prompts.LEAD_VERIFIED:
                assert "news" not in by_n[n].label.lower()


def test_words_to_know_on_the_page_and_in_the_api(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer("which pain conditions does ketamine help?")
    data = answer.to_json()
    assert data["words_heading"] == prompts.WORDS_TO_KNOW
    assert any(w["term"] == "CRPS" for w in data["words"])
    assert data["plain"] and data["plain_heading"] == prompts.LEAD_PLAIN
    html = render_answer(answer)
    assert prompts.WORDS_TO_KNOW in html and prompts.LEAD_PLAIN in html
    assert html.index(prompts.LEAD_PLAIN) < html.index(prompts.WORDS_TO_KNOW)
    assert data["words_first"] is False


def test_a_condition_the_patient_named_is_not_defined(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer("does ketamine help my CRPS, per the studies?", ["what is ketamine"])
    assert answer.words and "CRPS" not in [w.term for w in answer.words]
    assert "crps" in " ".join(p.text for p in answer.plain).lower()


@pytest.mark.parametrize(("question", "term"), [("What is CRPS?", "CRPS")])
def test_a_what_is_question_leads_with_the_word_it_asks_about(
    corpus_bot, question: str, term: str
) -> None:  # type: ignore[no-untyped-def]
    answer = corpus_bot.answer(question)
    assert answer.words_first and answer.words[0].term == term
    assert answer.to_json()["words_first"] is True
    html = render_answer(answer)
    assert html.index(prompts.WORDS_TO_KNOW) < html.index(prompts.LEAD_PLAIN)
    text = cli_render_answer(answer)
    assert text.index(prompts.WORDS_TO_KNOW) < text.index(answer.text)


@pytest.mark.parametrize(
    "question",
    ["Has ketamine been tried for phantom limb pain?", "is ketamine any use for migraine?"],
)
def test_conditions_listed_in_passing_are_not_defined(corpus_bot, question) -> None:  # type: ignore[no-untyped-def]
    """The guideline's weak-evidence line lists many conditions; a patient asking about one
    of them does not need the others defined (a blind review read them as padding)."""
    answer = corpus_bot.answer(question)
    lead = " ".join(p.text for p in answer.plain)
    assert "fibromyalgia" in lead and "phantom limb pain" in lead, lead
    terms = [w.term for w in answer.words]
    assert "Fibromyalgia" not in terms and "Neuropathic pain" not in terms, terms


def test_words_to_know_are_few_and_from_the_plain_lead(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    """A hard word only quoted from a source ("psychedelic" in the author's words) is not
    defined when a plain lead answers; the entries are a few, in order of use."""
    answer = corpus_bot.answer(
        'The article keeps saying ketamine has a "robust evidence base." How strong is the '
        "evidence really?"
    )
    lead = " ".join(p.text for p in answer.plain).lower()
    quoted = " ".join(s for part in answer.parts for s, _ in part.items).lower()
    assert answer.plain and "psychedelic" in quoted and "psychedelic" not in lead
    assert 0 < len(answer.words) <= WORDS_LIMIT
    assert all(w.term.lower() in lead or any(f in lead for f in w.forms) for w in answer.words)
    assert "Psychedelic" not in [w.term for w in answer.words]


def test_a_question_naming_a_source_is_not_led_by_another_references_sentences(
    corpus_bot,
) -> None:  # type: ignore[no-untyped-def]
    """ "The 2023 review" is an unchecked reference: the 2024 scoping review's line on
    Schedule I, once its lead, read as that review's content."""
    answer = corpus_bot.answer("What's in the 2023 psychedelics review the article lists?")
    plain = corpus_bot.aids.by_id()
    by_text = {s.text: s for s in plain.values()}
    sources = {by_text[p.text].source_id for p in answer.plain}
    assert sources and sources <= {"pmid-37572245", "article"}


def test_a_question_about_a_named_source_fetches_that_sources_summary(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    """Words the plain layer never uses ("leans", "perception") no longer stop the link that
    fetches the named source's own plain sentences: the news report is called one."""
    answer = corpus_bot.answer(
        'The article leans on "Psychedelics Today" for the idea that psychedelics change '
        "neuroplasticity and pain perception. Is that even a scientific source?"
    )
    lead = " ".join(p.text for p in answer.plain)
    assert "news report" in lead and "not a research paper" in lead


@pytest.mark.parametrize(
    "question",
    [
        "The article keeps saying 'sustained' relief. Does ketamine actually help long term, or "
        "does it wear off?",
        "Is the pivotal study in Pain Medicine real?",
        "does ketamine help fibromyalgia",
        "what is an NMDA receptor antagonist?",
        # Question batch 25: the claim that restates the quote could not be shown with all its
        # caveats, and its status note was left out with it.
        "What are the big unanswered questions about ketamine for chronic pain?",
    ],
)
def test_a_quoted_claim_resting_on_an_unchecked_reference_shows_its_status(  # type: ignore[no-untyped-def]
    corpus_bot, question: str
) -> None:
    """An author's claim quoted from the article comes with the note on the reference it rests
    on (not checked, or mislabelled), or is not quoted: alone it reads as a checked finding."""
    from bot.lead import restated_claim

    answer = corpus_bot.answer(question)
    assert answer.verdict is Verdict.ANSWERED
    by_id = corpus_bot.aids.by_id()
    for part in answer.parts:
        for sentence, n in part.items:
            citation = answer.citations[n - 1]
            passage = next(p for p in corpus_bot.store.all_passages() if p.text == citation.passage)
            vector = corpus_bot.embedder.embed_query(sentence)
            claim = restated_claim(corpus_bot.aids, passage, sentence, vector)
            if claim is None:
                continue
            for note in (by_id[c] for c in claim.caveats if by_id[c].role == "status"):
                assert note.text in answer.text, (sentence, note.id)


def test_a_quote_naming_a_mislabelled_reference_comes_with_the_correction(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    """The author's "earlier study in Current Opinion in Anesthesiology" is the mislabelled
    2018 guideline: quoted, it needs that note even when the claim it reads like best (how
    ketamine calms central sensitization) carries none."""
    answer = corpus_bot.answer(
        "My wife's pain specialist keeps telling her she has 'central sensitization', and this "
        "article mentions it too. In plain English, what is it, and how is ketamine supposed to "
        "help with it?"
    )
    assert answer.verdict is Verdict.ANSWERED
    assert "central sensitization" in answer.text.lower()
    note = corpus_bot.aids.by_id()["guideline-mislabel"].text
    if "Current Opinion in Anesthesiology" in answer.text:
        assert note in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "how is ketamine supposed to help with neuroplasticity?",
        "does the article say ketamine is a trailblazer?",
        "the article says ketamine has a strong evidence base and a good safety record. what do "
        "you make of that?",
    ],
)
def test_a_quoted_author_claim_comes_with_every_caveat_it_names(  # type: ignore[no-untyped-def]
    corpus_bot, question: str
) -> None:
    """The search brings the author's claim by its words, not the checked sources' limits on
    it: those passages are fetched so the claim is quoted with them ("profound effects on
    chronic pain" without "weak or no evidence" read as misleading in a blind review)."""
    from bot.lead import restated_claim

    answer = corpus_bot.answer(question)
    assert answer.verdict is Verdict.ANSWERED
    by_id = corpus_bot.aids.by_id()
    passages = {p.text: p for p in corpus_bot.store.all_passages()}
    claims = 0
    for part in answer.parts:
        for sentence, n in part.items:
            passage = passages[answer.citations[n - 1].passage]
            vector = corpus_bot.embedder.embed_query(sentence)
            claim = restated_claim(corpus_bot.aids, passage, sentence, vector)
            if claim is None or claim.role != "claim":
                continue
            claims += 1
            for caveat in claim.caveats:
                assert by_id[caveat].text in answer.text, (sentence, caveat)
    assert claims


@pytest.mark.parametrize(
    "question",
    [
        "will the pain relief from ketamine last for months?",
        "Is the evidence for ketamine for nerve pain strong?",
        "how long does the relief from a ketamine drip usually last",
    ],
)
def test_the_crps_exception_says_how_long_its_relief_lasted(  # type: ignore[no-untyped-def]
    corpus_bot, question: str
) -> None:
    """The line "apart from CRPS, no evidence of medium- or long-term benefit" alone reads as
    lasting relief for CRPS; in a blind review it misled on four answers of 24 (question
    batches 21-26). The plain line carries CRPS's "up to about 12 weeks"."""
    answer = corpus_bot.answer(question)
    assert answer.verdict is Verdict.ANSWERED
    lead = " ".join(p.text for p in answer.plain)
    assert "Apart from CRPS" in lead
    assert "12 weeks" in lead


def test_a_news_report_s_status_brings_its_limit(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    """Saying what kind of source the news report is comes with what such a source can show:
    interest in a topic, not evidence that a treatment works."""
    answer = corpus_bot.answer("is the psychedelics today link a peer reviewed journal?")
    lead = " ".join(p.text for p in answer.plain)
    assert "Psychedelics Today piece is a news report" in lead
    assert "not evidence that a treatment works" in lead


@pytest.mark.parametrize(
    "question",
    [
        "the conclusion says peer reviewed studies back ketamine up. which studies?",
        "does ketamine help when nothing else has worked?",
    ],
)
def test_the_claim_that_studies_show_a_reset_is_restated_with_its_limits(  # type: ignore[no-untyped-def]
    corpus_bot, question: str
) -> None:
    """The conclusion's "peer-reviewed studies highlight its ability to reset pain processing
    pathways" had no plain restatement, so it was quoted bare (blind reviews of question
    batches 26 and 27). Now a plain claim restates it and brings the guideline's findings."""
    answer = corpus_bot.answer(question)
    by_id = corpus_bot.aids.by_id()
    lead = " ".join(p.text for p in answer.plain)
    assert by_id["article-reset"].text in lead
    for caveat in by_id["article-reset"].caveats:
        assert by_id[caveat].text in lead, caveat
