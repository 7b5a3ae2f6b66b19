"""Property tests: hostile input to the JSON API, to Bot.answer and to the loaders never crashes.

Every request gets either a normal 200 answer or a 4xx with a JSON {"error": ...}; never a 500.
Example counts are kept small because the real bot answers in 0.1-0.5 s.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hostile_inputs import HOSTILE_TEXTS
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.errors import InvalidQuestionError
from bot.types import Answer, Verdict
from ingest.load import load_documents

# `make stress` sets PAINBOT_FUZZ_SCALE=40: forty times the examples `make test` tries.
SCALE = max(1, int(os.environ.get("PAINBOT_FUZZ_SCALE", "1")))


def examples(count: int) -> int:
    return count * SCALE


QUICK = hypothesis_settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with everything Unicode allows in JSON: control characters, RTL, emoji, lone surrogates.
any_text = st.text(
    st.characters(codec=None, exclude_categories=()),
    max_size=300,
)
valid_text = st.text(st.characters(codec="utf-8"), max_size=300)  # no lone surrogates
question_text = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    any_text,
    st.text(max_size=40).map(lambda s: f"What is ketamine? {s}"),
    st.integers(1990, 2100).map(lambda n: "a" * n),  # around the 2000-char limit
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=8,
)


def assert_answer_or_client_error(response: Any) -> None:
    """The API's contract: 200 with a full answer, or 4xx with {"error": "..."}."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    data = response.json()
    if response.status_code == 200:
        assert data["verdict"] in {v.value for v in Verdict}
        assert data["text"] and data["disclaimer"]
    else:
        assert 400 <= response.status_code < 500
        assert isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"]


@pytest.mark.parametrize("question", HOSTILE_TEXTS)
def test_ask_hostile_questions(api_client: TestClient, question: str) -> None:
    response = api_client.post("/api/ask", json={"question": question, "history": [question]})
    assert_answer_or_client_error(response)
    if response.status_code == 200:
        assert "<script" not in response.json()["text"]


@QUICK
@given(question=question_text, history=st.lists(question_text, max_size=3))
def test_ask_any_question(api_client: TestClient, question: str, history: list[str]) -> None:
    body = json.dumps({"question": question, "history": history})  # lone surrogates -> \udXXX
    response = api_client.post(
        "/api/ask", content=body, headers={"content-type": "application/json"}
    )
    assert_answer_or_client_error(response)


@QUICK
@given(body=json_value)
def test_ask_any_json_shape(api_client: TestClient, body: Any) -> None:
    response = api_client.post(
        "/api/ask", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert_answer_or_client_error(response)


@hypothesis_settings(QUICK, max_examples=examples(60))
@given(raw=st.binary(max_size=400) | any_text.map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_ask_any_bytes_as_body(api_client: TestClient, raw: bytes) -> None:
    for content_type in ("application/json", "text/plain"):
        response = api_client.post("/api/ask", content=raw, headers={"content-type": content_type})
        assert_answer_or_client_error(response)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b'{"question": "hi"',
        b'{"question": "hi",}',
        b"{'question': 'hi'}",
        b'{"question": NaN}',
        b'{"question": "\\ud800"}',
        b'{"question": "ok", "history": ["\\udfff"]}',
        b'{"question": "ok", "history": ["' + b"h" * 2001 + b'"]}',
        b'{"question": "ok", "id": "\\ud83d"}',
        b'{"question": "\xff\xfe"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"question": "a"}' * 1000,
        json.dumps({"question": "hi", "history": ["x"] * 1000}).encode(),
        json.dumps({"question": "hi", "id": "i" * 100}).encode(),
    ],
)
def test_ask_malformed_json(api_client: TestClient, raw: bytes) -> None:
    response = api_client.post(
        "/api/ask", content=raw, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["error"]


@hypothesis_settings(QUICK, max_examples=examples(80))
@given(
    answer_id=question_text,
    verdict=question_text,
    rating=st.sampled_from([1, -1, 0, 2, "1", None, 1.5, True, [], {}]),
)
def test_feedback_any_input(
    api_client: TestClient, answer_id: str, verdict: str, rating: Any
) -> None:
    body = json.dumps({"answer_id": answer_id, "verdict": verdict, "rating": rating})
    response = api_client.post(
        "/api/feedback", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code < 500, (response.status_code, response.text[:300])
    data = response.json()
    assert data == {"ok": True} if response.status_code == 200 else data["error"]


valid_question_text = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    valid_text,
    st.text(max_size=40).map(lambda s: f"What is ketamine? {s}"),
)


@hypothesis_settings(QUICK, max_examples=examples(40))
@given(question=valid_question_text, history=st.lists(valid_question_text, max_size=3))
def test_bot_answer_any_text(corpus_bot: Any, question: str, history: list[str]) -> None:
    """Bot.answer itself: an Answer with the disclaimer, or InvalidQuestionError; nothing else."""
    try:
        answer = corpus_bot.answer(question, history)
    except InvalidQuestionError as exc:
        assert str(exc)
        return
    assert isinstance(answer, Answer) and answer.text and answer.disclaimer
    json.dumps(answer.to_json())


def test_bot_answer_lone_surrogate(corpus_bot: Any) -> None:
    """The CLI and the Gradio page pass text straight to the bot: it must cope."""
    answer = corpus_bot.answer("What is ketamine? \ud800", ["and CRPS \udfff"])
    assert answer.verdict.value == "answered" and answer.citations


SUFFIXES = [".md", ".txt", ".html", ".pdf", ".jsonl", ".markdown", ".htm"]


@hypothesis_settings(QUICK, max_examples=examples(150))
@given(
    suffix=st.sampled_from(SUFFIXES),
    content=st.one_of(
        st.binary(max_size=600),
        any_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
        st.sampled_from(HOSTILE_TEXTS).map(str.encode),
        st.tuples(any_text, any_text).map(
            lambda t: f"---\n{t[0]}\n---\n## {t[1]}\n\nText.\n".encode("utf-8", "surrogatepass")
        ),
        st.just(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n"),
    ),
)
def test_loaders_never_raise(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, content: bytes
) -> None:
    """Any bytes under any supported suffix: documents, or a failure with a reason; no exception."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / f"doc{suffix}"
    path.write_bytes(content)
    result = load_documents([folder])
    assert result.documents or result.failed
    for failure in result.failed:
        assert failure.reason and failure.path
    for document, _root in result.documents:
        assert document.source_id.strip() and "@" not in document.source_id
        assert document.sections and all(s.text.strip() for s in document.sections)
        json.dumps(document.metadata, default=str)


def test_loader_fuzz_folder_is_clean(tmp_path: Path) -> None:
    """Sanity check for the property above: an ordinary record loads."""
    (tmp_path / "a.md").write_text("---\nid: a\n---\nKetamine text.\n", encoding="utf-8")
    assert [d.source_id for d, _ in load_documents([tmp_path]).documents] == ["a"]
