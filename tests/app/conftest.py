"""App fixtures: a bot (real one when bot.load exists), the built app, a live uvicorn server."""

from __future__ import annotations

import functools
import http.server
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from stand_in_http import serve

from bot.config import Settings
from bot.types import Answer, AnswerPart, Citation, Verdict

XSS = '<img src=x onerror="window.__pwned=1">'


class ScriptedBot:
    """Builds a real Answer with hostile HTML in a source and a javascript: link."""

    def answer(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer:
        cite = Citation(
            n=1,
            source_id="article",
            chunk_id="article:3",
            title="The article",
            label="Article, section 'Ketamine'",
            url="https://example.org/article",
            section="Ketamine",
            verification="verified",
            verified=True,
            passage=f"Ketamine can ease some chronic pain for weeks. {XSS}",
        )
        cite2 = Citation(
            n=2,
            source_id="ref",
            chunk_id="ref:1",
            title="A review",
            label="Cohen et al., 2018",
            url="javascript:alert(1)",
            section="",
            verification="unverified reference",
            verified=False,
            passage="Infusions were studied in several small trials.",
        )
        return Answer(
            verdict=Verdict.ANSWERED,
            text=(
                "What the checked sources say:\n"
                f"- Ketamine infusions can reduce some kinds of chronic pain. {XSS} [1]\n"
                "- Infusions were studied in several small trials. [2]"
            ),
            parts=(
                AnswerPart(
                    "What the checked sources say:",
                    (
                        (f"Ketamine infusions can reduce some kinds of chronic pain. {XSS}", 1),
                        ("Infusions were studied in several small trials.", 2),
                    ),
                ),
            ),
            citations=(cite, cite2),
            disclaimer="This is general education, not medical advice. Ask your own doctor.",
            id=id or "a1",
            question=question,
        )

    def stats(self) -> dict[str, Any]:
        return {
            "store": "chroma",
            "collection": "painbot",
            "documents": 1,
            "chunks": 2,
            "models": {"embedding": "stub"},
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def app_bot(corpus_bot: Any) -> Any:
    """The real bot over the real corpus."""
    return corpus_bot


@pytest.fixture
def scripted_answer() -> Answer:
    """A real Answer whose source passage carries HTML, to prove rendering escapes it."""
    return ScriptedBot().answer("q", id="s1")


@pytest.fixture(scope="session")
def app_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = tmp_path_factory.mktemp("app")
    return Settings(
        store_dir=base / "chroma",
        feedback_db=base / "feedback.sqlite3",
        rate_limit=0,
        allowed_origins=[],
    )


class LiveServer:
    def __init__(self, app: Any, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def clinic_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A clinic's own web site on another origin: a folder served for the whole session.

    Its port stays bound from the start, so no client connection can take it in between
    (a fixed "app port + 1" once collided with a browser's outgoing connection)."""
    folder = tmp_path_factory.mktemp("clinic-site")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with serve(handler) as base:
        yield folder, base


CLINIC = {
    "clinic_name": "Riverside Pain Clinic",
    "clinic_phone": "555-0100",
    "clinic_hours": "Monday to Friday, 8 am to 5 pm",
    "clinic_url": "https://clinic.example",
}


@pytest.fixture(scope="session")
def clinic_bot(corpus_bot: Any) -> Any:
    """The real bot over the real corpus, set up with a clinic's contact details."""
    from bot.pipeline import Bot

    settings = corpus_bot.settings.model_copy(update=CLINIC)
    return Bot(settings, corpus_bot.embedder, corpus_bot.store)


@pytest.fixture(scope="session")
def live_server(
    app_settings: Settings, clinic_bot: Any, clinic_site: tuple[Path, str]
) -> Iterator[LiveServer]:
    """The real app and bot, as a clinic runs them: its contact details set, its site allowed."""
    import app as app_module

    port = free_port()
    settings = app_settings.model_copy(update={"allowed_origins": [clinic_site[1]], **CLINIC})
    server = LiveServer(app_module.build(settings, clinic_bot), port)
    server.settings = settings  # type: ignore[attr-defined]
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def scripted_server(app_settings: Settings) -> Iterator[LiveServer]:
    """The app over a bot whose answer and source text carry HTML and script."""
    import app as app_module

    settings = app_settings.model_copy(
        update={"feedback_db": app_settings.feedback_db.with_name("scripted.sqlite3")}
    )
    server = LiveServer(app_module.build(settings, ScriptedBot()), free_port())
    server.start()
    yield server
    server.stop()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium through Playwright, once per session."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(
            "Debian's chromium is missing: run `apt-get install -y chromium` (make browser)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
