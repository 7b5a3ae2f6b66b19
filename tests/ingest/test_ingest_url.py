"""`python -m ingest url`: pages fetched from a local stand-in web server, saved, ingested."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from stand_in_http import QuietHandler, send, serve

from bot.config import Settings
from bot.errors import FetchError
from ingest.web_fetch import fetch_and_ingest_urls, fetch_url, file_name_for

PAGE = """<!doctype html><html><head><title>Nerve blocks and ketamine</title></head><body>
<nav>Home | About | Contact</nav>
<main><h1>Nerve blocks and ketamine</h1>
<p>Stellate ganglion blocks were tried together with low-dose ketamine in a small clinic
series of twelve people with long-term nerve pain, and most reported less burning pain.</p>
</main><footer>Copyright clinic</footer><script>var tracking = 1;</script></body></html>"""


class _Handler(QuietHandler):
    routes: ClassVar[dict[str, tuple[int, str, bytes]]] = {
        "/page.html": (200, "text/html; charset=utf-8", PAGE.encode()),
        "/image.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
        "/big.html": (200, "text/html", b"<p>" + b"x " * 600_000 + b"</p>"),
        "/gone": (404, "text/html", b"not here"),
    }

    def do_GET(self) -> None:
        status, kind, body = self.routes.get(self.path, (404, "text/plain", b""))
        send(self, status, body, {"Content-Type": kind})


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve(_Handler) as base:
        yield base


def test_file_name_is_stable_and_safe() -> None:
    name = file_name_for("https://www.Example.org/a/../b c?x=1", ".html")
    assert name == "web-example-org-a-b-c.html"
    assert file_name_for("https://www.example.org/a/../b c?x=1", ".html") == name


def test_page_is_saved_ingested_and_searchable(
    site: str, settings: Settings, tmp_path: Path, embedder: object
) -> None:
    import bot

    folder = tmp_path / "references"
    report = fetch_and_ingest_urls(settings, [f"{site}/page.html"], folder, embedder=embedder)  # type: ignore[arg-type]
    assert report.failed == [] and report.added == 1
    saved = list(folder.iterdir())
    assert [p.suffix for p in saved] == [".html"]
    passages = bot.load(settings).search("stellate ganglion block with ketamine", 3)
    assert passages and "Stellate ganglion" in passages[0].text
    assert "tracking" not in passages[0].text and "Home | About" not in passages[0].text


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/image.png", "only HTML pages"), ("/gone", "HTTP 404"), ("/big.html", "larger than")],
)
def test_refused_with_reason_and_nothing_written(
    site: str, settings: Settings, tmp_path: Path, path: str, reason: str
) -> None:
    small = settings.model_copy(update={"max_file_mb": 1.0})
    with pytest.raises(FetchError, match=reason):
        fetch_url(small, f"{site}{path}", tmp_path / "references")
    assert not (tmp_path / "references").exists() or not any((tmp_path / "references").iterdir())


def test_not_http_and_unreachable(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"not an http"):
        fetch_url(settings, "file:///etc/passwd", tmp_path)
    fast = settings.model_copy(update={"pubmed_timeout_s": 2.0})
    with pytest.raises(FetchError, match=r"Could not reach|did not answer"):
        fetch_url(fast, "http://127.0.0.1:9/nothing", tmp_path)


def test_cli_url_command(site: str, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    out = tmp_path / "refs"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest",
            "url",
            f"{site}/page.html",
            f"{site}/gone",
            "--out",
            str(out),
            "--store",
            str(tmp_path / "store"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1  # one of the two failed
    report = json.loads(result.stdout)
    assert report["added"] == 1 and report["failed"][0]["path"].endswith("/gone")
    assert "HTTP 404" in report["failed"][0]["reason"]
