"""`python -m ingest url URL ...`: save a web page or PDF into the corpus and ingest it.

The page is saved as it was served (HTML or PDF) under a name made from its address, so the
normal loaders read it and a later run with the same URL replaces it. Only http(s), a size
cap, a time-out and the content types the loaders know; everything else is refused with a
reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot.config import Settings
from bot.embeddings import Embedder
from bot.errors import FetchError
from ingest.index import IngestReport, ingest_fetched

log = logging.getLogger(__name__)

_SUFFIX_BY_TYPE = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
USER_AGENT = "painbot-ingest/1.0 (patient-education corpus; contact: see PAINBOT_PUBMED_EMAIL)"


def file_name_for(url: str, suffix: str) -> str:
    """'https://www.example.org/a/b-c?x=1' -> 'web-example-org-a-b-c.html' (at most 120 chars)."""
    parts = urlsplit(url)
    host = parts.hostname or "page"
    host = host.removeprefix("www.")
    slug = re.sub(r"[^a-z0-9]+", "-", f"{host} {parts.path}".lower()).strip("-")
    return f"web-{slug[:110].rstrip('-') or 'page'}{suffix}"


def fetch_url(
    settings: Settings,
    url: str,
    folder: Path,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Path:
    """Download ``url`` into ``folder``; return the file written. FetchError says why not."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"{url!r} is not an http(s) address; give the full https://... URL.")
    limit = int(settings.max_file_mb * 1024 * 1024)
    try:
        with (
            httpx.Client(
                timeout=settings.pubmed_timeout_s,
                transport=transport,
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise FetchError(
                    f"{url} answered HTTP {response.status_code}; check the address or save "
                    "the page from a browser into corpus/references/."
                )
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            suffix = _SUFFIX_BY_TYPE.get(kind)
            if suffix is None:
                raise FetchError(
                    f"{url} is {kind or 'of unknown type'}; only HTML pages, PDFs and plain "
                    "text can be ingested."
                )
            body = bytearray()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > limit:
                    raise FetchError(
                        f"{url} is larger than {settings.max_file_mb:g} MB "
                        "(PAINBOT_MAX_FILE_MB); save a smaller version by hand."
                    )
    except httpx.TimeoutException as exc:
        raise FetchError(
            f"{url} did not answer within {settings.pubmed_timeout_s:g} s; try again later."
        ) from exc
    except httpx.TransportError as exc:
        raise FetchError(
            f"Could not reach {url} ({exc.__class__.__name__}); check the internet connection, "
            "or save the page from a browser into corpus/references/."
        ) from exc
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name_for(url, suffix)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(bytes(body))
    partial.replace(target)  # never leave a half-written file where the loaders look
    log.info("saved %s (%d bytes) as %s", url, len(body), target)
    return target


def fetch_and_ingest_urls(
    settings: Settings,
    urls: Sequence[str],
    folder: Path,
    *,
    transport: httpx.BaseTransport | None = None,
    embedder: Embedder | None = None,
) -> IngestReport:
    """Fetch each URL into ``folder`` and ingest what arrived; failures are reported per URL."""
    failed: list[dict[str, str]] = []
    written: list[Path] = []
    for url in urls:
        try:
            written.append(fetch_url(settings, url, folder, transport=transport))
        except FetchError as exc:
            failed.append({"path": url, "reason": str(exc)})
    return ingest_fetched(settings, written, failed, embedder)
