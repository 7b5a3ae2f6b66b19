"""The same store against a Chroma server (PAINBOT_CHROMA_URL), as replicas would share it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.errors import StoreError
from bot.store import ChunkStore, chunking_signature
from ingest.index import ingest_paths

CHROMA = Path(sys.executable).parent / "chroma"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists() and shutil.which("chroma") is None:
        pytest.skip("the chroma server command is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(tmp_path_factory.mktemp("server")),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/api/v2/heartbeat", timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_ingest_and_query_through_a_server(
    chroma_url: str, tmp_path: Path, write_record, counting
) -> None:
    settings = Settings(
        store_dir=tmp_path / "unused", chroma_url=chroma_url, collection="server-test"
    )
    folder = write_record(
        "a", {"Safety": "Ketamine raises blood pressure for a short time."}
    ).parent
    assert ingest_paths(settings, [folder], embedder=counting).added == 1
    assert ingest_paths(settings, [folder], embedder=counting).skipped == 1
    store = ChunkStore.open(
        settings,
        embedding_model=counting.model_id,
        dimension=counting.dimension,
        chunking=chunking_signature(settings),
    )
    hit = store.query(counting.embed_query("blood pressure"), 1)[0]
    assert hit.chunk_id == "a:0" and hit.section == "Safety"
    assert not (tmp_path / "unused").exists()


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(store_dir=tmp_path, chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(StoreError, match="server is running"):
        ChunkStore.recorded(settings)
