"""PubMed: the efetch parser on fixtures, the client against a local stand-in server."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner
from stand_in_http import QuietHandler, send, serve

from bot.config import Settings
from bot.errors import FetchError
from ingest.cli import cli
from ingest.load import load_markdown
from ingest.pubmed import PubMedClient, fetch_and_ingest, parse_efetch, record_markdown

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
STRUCTURED = (FIXTURES / "efetch_structured.xml").read_bytes()
MULTIPLE = (FIXTURES / "efetch_multiple.xml").read_bytes()
EMPTY = (FIXTURES / "efetch_empty.xml").read_bytes()


# --- parser -------------------------------------------------------------------------------
def test_parse_structured_abstract() -> None:
    (record,) = parse_efetch(STRUCTURED)
    assert record.pmid == "29870458"
    assert record.title.startswith("Consensus Guidelines") and not record.title.endswith(".")
    assert record.authors == ("Cohen SP", "Bhatia A", "Buvanendran A")
    assert (record.journal, record.year) == ("Regional anesthesia and pain medicine", 2018)
    assert record.doi == "10.1097/AAP.0000000000000808"
    assert [label for label, _ in record.abstract] == ["BACKGROUND", "METHODS", "RESULTS"]
    assert "for complex regional pain syndrome for up to 12 weeks" in record.abstract[2][1]


def test_parse_multiple_unstructured_missing_doi_and_abstract() -> None:
    first, second = parse_efetch(MULTIPLE)
    assert first.year == 2020 and first.doi is None
    assert first.authors == ("Smith J", "Pain Study Group")
    assert first.abstract[0][0] == "" and "2.5 points" in first.abstract[0][1]
    assert second.pmid == "35092320" and second.abstract == ()
    assert parse_efetch(EMPTY) == []


def test_parse_rejects_non_xml() -> None:
    with pytest.raises(FetchError, match="not valid XML"):
        parse_efetch(b"<html>Service unavailable")


def test_record_markdown_round_trips_through_the_loader(tmp_path: Path) -> None:
    (record,) = parse_efetch(STRUCTURED)
    path = tmp_path / "pmid-29870458.md"
    path.write_text(record_markdown(record, dt.date(2026, 1, 2)), encoding="utf-8")
    doc = load_markdown(path)[0]
    meta = doc.metadata
    assert doc.source_id == "pmid-29870458" and meta["kind"] == "reference"
    assert meta["verification"] == "fetched from PubMed on 2026-01-02"
    assert meta["text_kind"] == "published abstract"
    assert meta["short_citation"] == "Cohen et al., 2018" and meta["pmid"] == "29870458"
    assert meta["url"] == "https://pubmed.ncbi.nlm.nih.gov/29870458/"
    assert [s.title for s in doc.sections] == ["Background", "Methods", "Results"]


# --- a local stand-in for E-utilities ------------------------------------------------------
class StandIn:
    """Serves a queue of canned replies, then `default`; records every request."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, dict[str, str], bytes, float]] = []
        self.default: bytes = EMPTY
        self.requests: list[dict[str, list[str]]] = []
        self.times: list[float] = []


@pytest.fixture
def stand_in() -> Iterator[tuple[StandIn, str]]:
    state = StandIn()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            state.requests.append(parse_qs(url.query))
            state.times.append(time.monotonic())
            status, headers, body, delay = (
                state.replies.pop(0) if state.replies else (200, {}, state.default, 0.0)
            )
            if delay:
                time.sleep(delay)
            send(self, status, body, headers)

    with serve(Handler) as base:
        yield state, f"{base}/eutils"


def _settings(tmp_path: Path, base: str, **extra: object) -> Settings:
    return Settings(store_dir=tmp_path / "chroma", pubmed_base_url=base, **extra)  # type: ignore[arg-type]


def _no_wait(_: float) -> None:
    pass


def test_client_sends_ncbi_params(stand_in, tmp_path: Path) -> None:
    state, base = stand_in
    state.default = STRUCTURED
    client = PubMedClient(
        _settings(tmp_path, base, pubmed_api_key="KEY", pubmed_email="a@b.example"), sleep=_no_wait
    )
    records = client.fetch(["29870458"])
    assert records[0].pmid == "29870458"
    params = state.requests[0]
    assert (
        params["db"] == ["pubmed"] and params["retmode"] == ["xml"] and params["id"] == ["29870458"]
    )
    assert params["api_key"] == ["KEY"] and params["tool"] == ["painbot"]
    assert params["email"] == ["a@b.example"]


def test_client_retries_429_respecting_retry_after(stand_in, tmp_path: Path) -> None:
    state, base = stand_in
    state.replies = [(429, {"Retry-After": "7"}, b"slow down", 0.0), (200, {}, STRUCTURED, 0.0)]
    waits: list[float] = []
    client = PubMedClient(_settings(tmp_path, base), sleep=waits.append)
    assert client.fetch(["29870458"])[0].year == 2018
    assert len(state.requests) == 2 and 7.0 in waits


def test_client_gives_up_after_retries_on_5xx(stand_in, tmp_path: Path) -> None:
    state, base = stand_in
    state.replies = [(500, {}, b"oops", 0.0)] * 3
    waits: list[float] = []
    client = PubMedClient(_settings(tmp_path, base, pubmed_retries=2), sleep=waits.append)
    with pytest.raises(FetchError, match=r"after 3 tries.*HTTP 500"):
        client.fetch(["1"])
    assert len(state.requests) == 3
    assert [w for w in waits if w >= 0.5] == [0.5, 1.0]  # exponential back-off


def test_client_times_out_then_recovers(stand_in, tmp_path: Path) -> None:
    state, base = stand_in
    state.replies = [(200, {}, STRUCTURED, 1.5)]
    state.default = STRUCTURED
    client = PubMedClient(
        _settings(tmp_path, base, pubmed_timeout_s=0.3, pubmed_retries=1), sleep=_no_wait
    )
    assert client.fetch(["29870458"])[0].pmid == "29870458"
    assert len(state.requests) == 2


def test_client_time_out_message(stand_in, tmp_path: Path) -> None:
    state, base = stand_in
    state.replies = [(200, {}, STRUCTURED, 1.0)] * 2
    client = PubMedClient(
        _settings(tmp_path, base, pubmed_timeout_s=0.2, pubmed_retries=1), sleep=_no_wait
    )
    with pytest.raises(FetchError, match=r"no answer within 0\.2 s"):
        client.fetch(["29870458"])


def test_client_honours_rate_limit(stand_in, tmp_path: Path) -> None:
    state, base = stand_in
    client = PubMedClient(_settings(tmp_path, base))
    for _ in range(4):
        client.efetch(["1"])
    gaps = [b - a for a, b in zip(state.times, state.times[1:], strict=False)]
    assert min(gaps) >= 0.30  # 3 requests per second without an API key


def test_offline_is_a_clear_error(tmp_path: Path) -> None:
    client = PubMedClient(_settings(tmp_path, "http://127.0.0.1:9/eutils"), sleep=_no_wait)
    with pytest.raises(FetchError, match="Could not reach PubMed"):
        client.fetch(["1"])


def test_fetch_and_ingest_reports_each_id(stand_in, tmp_path: Path, embedder) -> None:
    state, base = stand_in
    state.default = MULTIPLE
    out = tmp_path / "refs"
    report = fetch_and_ingest(
        _settings(tmp_path, base),
        ["31990596", "35092320", "99999999", "abc"],
        out,
        client=PubMedClient(_settings(tmp_path, base), sleep=_no_wait),
        embedder=embedder,
    )
    assert report.added == 1 and report.chunks == 1
    reasons = {f["path"]: f["reason"] for f in report.failed}
    assert "not a PubMed ID" in reasons["pmid:abc"]
    assert "no record" in reasons["pmid:99999999"]
    assert "no abstract" in reasons["pmid:35092320"]
    assert [p.name for p in out.iterdir()] == ["pmid-31990596.md"]


def test_hand_written_record_is_not_overwritten(stand_in, tmp_path: Path, embedder) -> None:
    state, base = stand_in
    state.default = STRUCTURED
    out = tmp_path / "refs"
    out.mkdir()
    curated = out / "pmid-29870458.md"
    curated.write_text("---\nid: pmid-29870458\n---\nCurated summary.\n", encoding="utf-8")
    report = fetch_and_ingest(
        _settings(tmp_path, base),
        ["29870458"],
        out,
        client=PubMedClient(_settings(tmp_path, base), sleep=_no_wait),
        embedder=embedder,
    )
    assert report.added == 0 and "hand-written" in report.failed[0]["reason"]
    assert curated.read_text(encoding="utf-8").endswith("Curated summary.\n")


def test_unverified_note_is_replaced_by_the_fetched_record(
    stand_in, tmp_path: Path, embedder
) -> None:
    state, base = stand_in
    state.default = STRUCTURED
    out = tmp_path / "refs"
    out.mkdir()
    note = out / "pmid-29870458.md"
    note.write_text(
        '---\nid: pmid-29870458\nverification: "unverified: not retrieved"\n---\nA note.\n',
        encoding="utf-8",
    )
    client = PubMedClient(_settings(tmp_path, base), sleep=_no_wait)
    report = fetch_and_ingest(
        _settings(tmp_path, base), ["29870458"], out, client=client, embedder=embedder
    )
    assert report.added == 1 and not report.failed
    assert load_markdown(note)[0].metadata["text_kind"] == "published abstract"


def test_cli_pubmed_json(stand_in, tmp_path: Path, embedder) -> None:
    state, base = stand_in
    state.default = STRUCTURED
    out = tmp_path / "refs"
    result = CliRunner().invoke(
        cli,
        ["pubmed", "29870458", "--out", str(out), "--store", str(tmp_path / "s"), "--json"],
        env={"PAINBOT_PUBMED_BASE_URL": base},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 1
    assert (out / "pmid-29870458.md").exists()
    offline = CliRunner().invoke(
        cli,
        ["pubmed", "1", "--out", str(out), "--store", str(tmp_path / "s")],
        env={"PAINBOT_PUBMED_BASE_URL": "http://127.0.0.1:9/x", "PAINBOT_PUBMED_RETRIES": "0"},
    )
    assert offline.exit_code == 2 and "Could not reach PubMed" in offline.stderr
