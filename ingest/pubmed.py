"""Fetch PubMed records by PMID (NCBI efetch, XML), parse them, save them as corpus records.

The client honours NCBI's rate limit (3 requests/s, 10 with an API key), time-outs and retries
with exponential back-off on time-outs, 429 and 5xx (respecting Retry-After).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.config import Settings
from bot.embeddings import Embedder
from bot.errors import FetchError, IngestError
from ingest.index import IngestReport, ingest_fetched
from ingest.load import load_markdown

log = logging.getLogger(__name__)

TOOL_NAME = "painbot"
MAX_IDS_PER_REQUEST = 200
MAX_RETRY_AFTER_S = 60.0
_PMID = re.compile(r"^[1-9][0-9]{0,9}$")


@dataclass(frozen=True)
class PubMedRecord:
    """The parts of a PubMed citation a corpus record needs."""

    pmid: str
    title: str
    authors: tuple[str, ...]
    journal: str
    year: int | None
    doi: str | None
    abstract: tuple[tuple[str, str], ...]
    """(label, text) pairs; the label is "" for an unstructured abstract."""


# --- parsing ------------------------------------------------------------------------------
def _text(element: ET.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _year(article: ET.Element) -> int | None:
    for path in (
        "Journal/JournalIssue/PubDate/Year",
        "ArticleDate/Year",
        "Journal/JournalIssue/PubDate/MedlineDate",
    ):
        match = re.search(r"\b(1[89]\d\d|20\d\d)\b", _text(article.find(path)))
        if match:
            return int(match.group(1))
    return None


def _author(author: ET.Element) -> str:
    collective = _text(author.find("CollectiveName"))
    if collective:
        return collective
    last = _text(author.find("LastName"))
    initials = _text(author.find("Initials"))
    return f"{last} {initials}".strip()


def _doi(entry: ET.Element, article: ET.Element) -> str | None:
    for element in article.findall("ELocationID"):
        if element.get("EIdType") == "doi" and _text(element):
            return _text(element)
    for element in entry.findall("PubmedData/ArticleIdList/ArticleId"):
        if element.get("IdType") == "doi" and _text(element):
            return _text(element)
    return None


def parse_efetch(xml: str | bytes) -> list[PubMedRecord]:
    """Records in an efetch (db=pubmed, retmode=xml) answer; books and empty sets give []."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise FetchError(
            f"PubMed sent a reply that is not valid XML ({exc}); try again later."
        ) from exc
    records: list[PubMedRecord] = []
    for entry in root.iter("PubmedArticle"):
        citation = entry.find("MedlineCitation")
        article = citation.find("Article") if citation is not None else None
        if citation is None or article is None:
            continue
        abstract = tuple(
            ((part.get("Label") or "").strip(), _text(part))
            for part in article.findall("Abstract/AbstractText")
            if _text(part)
        )
        records.append(
            PubMedRecord(
                pmid=_text(citation.find("PMID")),
                title=_text(article.find("ArticleTitle")).rstrip("."),
                authors=tuple(
                    name for a in article.findall("AuthorList/Author") if (name := _author(a))
                ),
                journal=_text(article.find("Journal/Title")),
                year=_year(article),
                doi=_doi(entry, article),
                abstract=abstract,
            )
        )
    return records


# --- the HTTP client ----------------------------------------------------------------------
class PubMedClient:
    """efetch over httpx with NCBI's rate limit, time-outs and retries."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._interval = 1.0 / (10 if settings.pubmed_api_key else 3)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last = 0.0
        self._http = httpx.Client(timeout=settings.pubmed_timeout_s, transport=transport)

    def close(self) -> None:
        self._http.close()

    def _wait_for_slot(self) -> None:
        with self._lock:
            delay = self._last + self._interval - time.monotonic()
            if delay > 0:
                self._sleep(delay)
            self._last = time.monotonic()

    def _params(self, pmids: Sequence[str]) -> dict[str, str]:
        params = {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml", "tool": TOOL_NAME}
        if self._settings.pubmed_email:
            params["email"] = self._settings.pubmed_email
        if self._settings.pubmed_api_key:
            params["api_key"] = self._settings.pubmed_api_key
        return params

    def efetch(self, pmids: Sequence[str]) -> bytes:
        """The raw efetch XML for these PMIDs, after retries; FetchError when it cannot."""
        url = self._settings.pubmed_base_url.rstrip("/") + "/efetch.fcgi"
        retries = self._settings.pubmed_retries
        problem = ""
        for attempt in range(retries + 1):
            backoff = 0.5 * 2**attempt
            self._wait_for_slot()
            try:
                response = self._http.get(url, params=self._params(pmids))
            except httpx.TimeoutException:
                problem = f"no answer within {self._settings.pubmed_timeout_s:g} s"
            except httpx.TransportError as exc:
                raise FetchError(
                    f"Could not reach PubMed at {self._settings.pubmed_base_url} "
                    f"({exc.__class__.__name__}); check the internet connection, or add the "
                    "record by hand as a Markdown file (see corpus/README.md)."
                ) from exc
            else:
                if response.status_code == 200:
                    return response.content
                if response.status_code == 429 or response.status_code >= 500:
                    problem = f"HTTP {response.status_code}"
                    backoff = max(backoff, _retry_after(response))
                else:
                    raise FetchError(
                        f"PubMed refused the request (HTTP {response.status_code}): "
                        f"{response.text[:200]!r}; check the PMIDs."
                    )
            if attempt < retries:
                log.warning("PubMed: %s; retrying in %.1f s", problem, backoff)
                self._sleep(backoff)
        raise FetchError(
            f"PubMed did not answer after {retries + 1} tries ({problem}); try again later, "
            "or set PAINBOT_PUBMED_API_KEY for a higher rate limit."
        )

    def fetch(self, pmids: Sequence[str]) -> list[PubMedRecord]:
        records: list[PubMedRecord] = []
        for start in range(0, len(pmids), MAX_IDS_PER_REQUEST):
            records += parse_efetch(self.efetch(pmids[start : start + MAX_IDS_PER_REQUEST]))
        return records


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(response.headers.get("Retry-After", ""))))
    except ValueError:
        return 0.0


# --- corpus records -----------------------------------------------------------------------
def short_citation(record: PubMedRecord) -> str:
    if not record.authors:
        first = "Anonymous"
    else:
        first = (
            record.authors[0].rsplit(" ", 1)[0] if " " in record.authors[0] else record.authors[0]
        )
    more = (
        " et al."
        if len(record.authors) > 2
        else (f" and {record.authors[1].rsplit(' ', 1)[0]}" if len(record.authors) == 2 else "")
    )
    return f"{first}{more}, {record.year}" if record.year else f"{first}{more}"


def record_markdown(record: PubMedRecord, today: dt.date) -> str:
    """A corpus record (front matter + abstract sections) for one PubMed citation."""
    front: dict[str, Any] = {
        "id": f"pmid-{record.pmid}",
        "kind": "reference",
        "title": record.title,
        "authors": ", ".join(record.authors),
        "short_citation": short_citation(record),
        "journal": record.journal,
        "year": record.year,
        "doi": record.doi,
        "pmid": record.pmid,
        "url": f"https://pubmed.ncbi.nlm.nih.gov/{record.pmid}/",
        "verification": f"fetched from PubMed on {today.isoformat()}",
        "text_kind": "published abstract",
    }
    front = {k: v for k, v in front.items() if v not in (None, "")}
    body = []
    for label, text in record.abstract:
        body += [f"## {label.capitalize() if label else 'Abstract'}", "", text, ""]
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{header}---\n\n" + "\n".join(body)


def _replaceable(path: Path) -> bool:
    """A record this tool wrote earlier, or a note saying the record is still unverified."""
    try:
        verification = str(load_markdown(path)[0].metadata.get("verification", ""))
    except IngestError:
        return False
    return verification.startswith(("fetched from PubMed", "unverified"))


def fetch_and_ingest(
    settings: Settings,
    pmids: Sequence[str],
    folder: Path,
    *,
    client: PubMedClient | None = None,
    embedder: Embedder | None = None,
    today: dt.date | None = None,
) -> IngestReport:
    """Fetch PMIDs, write one record per PMID into folder, ingest them; failures per id."""
    failed: list[dict[str, str]] = []
    wanted: list[str] = []
    for pmid in pmids:
        if _PMID.match(pmid.strip()):
            wanted.append(pmid.strip())
        else:
            failed.append({"path": f"pmid:{pmid}", "reason": "not a PubMed ID (digits only)."})
    own = client is None
    client = client or PubMedClient(settings)
    try:
        records = {r.pmid: r for r in client.fetch(wanted)} if wanted else {}
    finally:
        if own:
            client.close()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for pmid in wanted:
        record = records.get(pmid)
        target = folder / f"pmid-{pmid}.md"
        if record is None:
            failed.append({"path": f"pmid:{pmid}", "reason": "PubMed has no record with this ID."})
        elif not record.abstract:
            failed.append(
                {
                    "path": f"pmid:{pmid}",
                    "reason": "PubMed has no abstract for it; write a summary record by hand "
                    "(see corpus/README.md).",
                }
            )
        elif target.exists() and not _replaceable(target):
            failed.append(
                {
                    "path": str(target),
                    "reason": "a hand-written, verified record exists there; kept it. Remove "
                    "it first or use --out to write elsewhere.",
                }
            )
        else:
            target.write_text(record_markdown(record, today or dt.date.today()), "utf-8")
            written.append(target)
    return ingest_fetched(settings, written, failed, embedder)
