"""corpus/vocabulary.toml: the shipped file loads; a malformed one fails naming the entry."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.errors import VocabularyError
from bot.vocabulary import SHIPPED, load_vocabulary, parse_vocabulary


def _shipped() -> dict[str, Any]:
    return tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def test_shipped_vocabulary_loads_and_knows_the_corpus() -> None:
    v = load_vocabulary(SHIPPED.parent)  # the corpus folder works as well as the file
    assert v.drug_of["molly"] == "psychedelics" and v.drug_of["esketamine"] == "esketamine"
    assert "postherpetic" in v.synonyms["shingles"]
    assert {d.topic for d in v.disagreements} == {"migraine", "fibromyalgia"}
    assert "george" in v.author_names and "the" in v.stopwords


@pytest.mark.parametrize(
    ("text", "matched", "means"),
    [
        ("what conditions rule someone out from getting it?", "rule someone out", "avoided"),
        ("does that rule me out", "rule me out", "avoided"),
        ("it rules most people out", "rules most people out", "avoided"),
        ("ketamine for lower back pain", "lower", "low"),
        # "back" is no particle: a noun two words from "broken" is not "broken back".
        ("broken my lower back", "lower", "low"),
    ],
)
def test_lay_phrases_hold_their_object_and_map_to_the_sources_words(
    text: str, matched: str, means: str
) -> None:
    v = load_vocabulary(SHIPPED)
    found = [m.group(0) for m in v.lay_pattern.finditer(text)]
    assert found == [matched]
    assert means in v.lay_meaning(matched)


def _broken(change: str) -> dict[str, Any]:
    data = _shipped()
    if change == "unknown part":
        data["synonym"] = {}
    elif change == "version":
        data["version"] = 2
    elif change == "empty list":
        data["topic"]["words"] = []
    elif change == "missing table":
        del data["advice"]
    elif change == "lay term key":
        data["lay_term"][0] = {"word": ["x"], "means": ["y"]}
    elif change == "two families":
        data["drug_family"][1]["members"].append("ketamine")
    elif change == "not strings":
        data["conditions"]["names"] = ["crps", 3]
    elif change == "texting":
        data["texting"]["Ur Mom"] = "your mom"
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown part", "unknown part(s) ['synonym']"),
        ("version", "version must be 1"),
        ("empty list", "[topic.words] is empty"),
        ("missing table", "[advice] is missing"),
        ("lay term key", "[[lay_term]] entry 1 must have exactly the keys ['means', 'words']"),
        ("two families", "'ketamine' is in two drug families"),
        ("not strings", "[conditions.names] must be a list of non-empty strings"),
        ("texting", "[texting] must map lower-case shorthand words"),
    ],
)
def test_malformed_vocabulary_names_the_entry(change: str, message: str) -> None:
    with pytest.raises(VocabularyError) as info:
        parse_vocabulary(_broken(change), SHIPPED)
    assert message in str(info.value)


def test_missing_or_invalid_file(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="is missing"):
        load_vocabulary(tmp_path)
    (tmp_path / "vocabulary.toml").write_text("version = [\n")
    with pytest.raises(VocabularyError, match="not valid TOML"):
        load_vocabulary(tmp_path)


def test_a_malformed_corpus_vocabulary_is_refused(tmp_path: Path) -> None:
    from bot.vocabulary import corpus_vocabulary

    assert corpus_vocabulary(tmp_path).drug_of  # none: the shipped one
    (tmp_path / "vocabulary.toml").write_text("version = 1\n")
    with pytest.raises(VocabularyError):
        corpus_vocabulary(tmp_path)


def test_ingest_checks_the_vocabulary_first(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ingest.cli import cli

    (tmp_path / "vocabulary.toml").write_text("version = 1\n")
    (tmp_path / "note.md").write_text("# A note\n\nSome text.\n")
    result = CliRunner().invoke(
        cli,
        ["run", str(tmp_path), "--store", str(tmp_path / "store")],
        env={"PAINBOT_CORPUS_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2 and "vocabulary.toml" in result.output


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("what's in the 2023 psychedelics review the article lists?", {"pmid-37572245"}),
        ("the 2018 current opinion in anesthesiology study the article cites", {"pmid-29870458"}),
        ('is "psychedelics today" even a scientific source?', {"psychedelics-today-2024"}),
        ("what did pubmed 31990596 find?", {"pmid-31990596"}),
        # As citations are written: a comma, quotes or brackets between a name's words.
        ("the 'pubmed, 2020' source in this article, is that one paper?", {"pmid-31990596"}),
        ("the pubmed (2023) one", {"pmid-37572245"}),
        ("is \u2018psychedelics today\u2019 a journal?", {"psychedelics-today-2024"}),
        # Not across a full stop: "2020. the review" is no "2020 review".
        ("it came out in 2020. the review i mean is another one", set()),
        # No source named: a year alone, or a study type alone, names none.
        ("does ketamine help crps?", set()),
        ("what happened in 2023?", set()),
        ("is there a study on it?", set()),
    ],
)
def test_a_question_names_a_source_by_its_names_words_up_to_three_apart(
    text: str, named: set[str]
) -> None:
    assert load_vocabulary(SHIPPED).sources_named(text) == named


def test_every_named_source_is_a_corpus_reference() -> None:
    references = {p.stem for p in (SHIPPED.parent / "references").glob("*.md")}
    sources = {s.source for s in load_vocabulary(SHIPPED).source_names}
    assert sources and sources <= references


def test_a_drug_family_no_source_studies_is_marked_and_checked() -> None:
    assert load_vocabulary(SHIPPED).unstudied_drugs == {"cannabis"}
    data = _shipped()
    data["drug_family"][0]["studied"] = "no"
    with pytest.raises(VocabularyError, match="must be true or false"):
        parse_vocabulary(data, SHIPPED)


def test_a_group_no_source_studies_is_marked_and_checked() -> None:
    vocabulary = load_vocabulary(SHIPPED)
    assert vocabulary.names_unstudied_population("is ketamine used in teenagers?")
    assert not vocabulary.names_unstudied_population("does ketamine help my knees?")
    data = _shipped()
    data["population"][0]["studied"] = "no"
    with pytest.raises(VocabularyError, match="must be true or false"):
        parse_vocabulary(data, SHIPPED)


def test_texting_shorthand_is_written_out_as_whole_words_only() -> None:
    vocabulary = load_vocabulary(SHIPPED)
    assert vocabulary.spell_out("ignore ur rules, shud i?") == "ignore your rules, should i?"
    # Inside words, links and after an apostrophe it stays as typed.
    assert (
        vocabulary.spell_out("urine and r/chronicpain, you're") == "urine and r/chronicpain, you're"
    )
