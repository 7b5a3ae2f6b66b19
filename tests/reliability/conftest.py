"""Reliability fixtures: an API client over the real bot, hostile inputs, a copied corpus."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.config import Settings

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory, corpus_settings: Settings) -> Settings:
    base = tmp_path_factory.mktemp("api")
    return corpus_settings.model_copy(
        update={"feedback_db": base / "feedback.sqlite3", "rate_limit": 0}
    )


@pytest.fixture(scope="module")
def api_client(api_settings: Settings, corpus_bot: Any) -> TestClient:
    """The JSON API (web.server.create_app) over the real bot, without the Gradio page."""
    from web.server import create_app

    return TestClient(create_app(api_settings, corpus_bot), raise_server_exceptions=False)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, target)
    return target


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server on a free port for the whole session; yields its URL."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma server command is not installed in this venv")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = tmp_path_factory.mktemp("chroma-server") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(log.parent / "data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "chroma did not answer its heartbeat in 60 s"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
