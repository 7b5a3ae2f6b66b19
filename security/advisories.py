"""Ask a package index which published advisories affect one pinned release.

PyPI's JSON API lists, for each release, the OSV advisories that affect it (the data pip-audit's
default service reads). A release's own page (`/<name>/<version>/json`) answers exactly. Some
mirrors serve only the project page (`/<name>/json`), whose list holds the advisories of the
newest release: it answers for our pin only when the pin is that release, and otherwise the pin
is reported as not checked rather than guessed clean.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

DEFAULT_INDEX_URL = "https://pypi.org/pypi"
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Pin:
    name: str
    version: str


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    details: str
    fixed_in: tuple[str, ...]
    link: str

    @property
    def names(self) -> frozenset[str]:
        """The advisory's id and every alias (one flaw often has a GHSA, a PYSEC and a CVE)."""
        return frozenset((self.id, *self.aliases))


@dataclass(frozen=True)
class PinFinding:
    pin: Pin
    checked: bool
    advisories: tuple[Advisory, ...] = ()
    note: str = ""


class IndexUnreachableError(Exception):
    """The index did not answer; the audit could not run."""


class AdvisoryClient:
    """Fetches release pages from a PyPI-style JSON API, retrying time-outs, 429 and 5xx."""

    def __init__(
        self,
        index_url: str = DEFAULT_INDEX_URL,
        *,
        timeout_s: float = 30.0,
        attempts: int = 3,
        backoff_s: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._index_url = index_url.rstrip("/")
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._http = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=True)

    def close(self) -> None:
        self._http.close()

    def check(self, pin: Pin) -> PinFinding:
        release = self._get_json(f"{self._index_url}/{pin.name}/{pin.version}/json")
        if release is not None:
            return PinFinding(pin, checked=True, advisories=_advisories(release))
        project = self._get_json(f"{self._index_url}/{pin.name}/json")
        if project is None:
            return PinFinding(pin, checked=False, note="the index does not know this package")
        newest = str(project.get("info", {}).get("version", ""))
        if newest != pin.version:
            # The newest release's flaws are kept: an older pin most likely has them too.
            newest_flaws = _advisories(project)
            return PinFinding(
                pin,
                checked=False,
                advisories=newest_flaws,
                note=f"the index lists advisories only for the newest release, {newest}"
                + ("" if newest_flaws else ", which has none"),
            )
        return PinFinding(pin, checked=True, advisories=_advisories(project))

    def _get_json(self, url: str) -> dict[str, Any] | None:
        """The page as JSON, None for 404; raises IndexUnreachableError when it never answers."""
        problem = ""
        for attempt in range(self._attempts):
            if attempt:
                time.sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                response = self._http.get(url)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code == 404:
                return None
            if response.status_code in RETRIED_STATUSES:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise IndexUnreachableError(f"{url} answered HTTP {response.status_code}")
            try:
                page = response.json()
            except ValueError as exc:
                raise IndexUnreachableError(f"{url} did not answer JSON: {exc}") from exc
            if not isinstance(page, dict):
                raise IndexUnreachableError(f"{url} did not answer a JSON object")
            return page
        raise IndexUnreachableError(f"{url}: {problem} after {self._attempts} attempts")


def _advisories(page: dict[str, Any]) -> tuple[Advisory, ...]:
    found = []
    for entry in page.get("vulnerabilities") or []:
        if not isinstance(entry, dict) or entry.get("withdrawn"):
            continue
        found.append(
            Advisory(
                id=str(entry.get("id", "")),
                aliases=tuple(str(alias) for alias in entry.get("aliases") or ()),
                details=" ".join(str(entry.get("summary") or entry.get("details") or "").split()),
                fixed_in=tuple(str(version) for version in entry.get("fixed_in") or ()),
                link=str(entry.get("link") or ""),
            )
        )
    return tuple(found)
