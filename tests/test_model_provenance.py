"""The default model's weights are the official all-MiniLM-L6-v2 release, loaded offline."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.config import DEFAULT_EMBEDDING_MODEL
from bot.embeddings import resolve_model_path

UPSTREAM_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def test_bundled_weights_match_the_upstream_release() -> None:
    weights = Path(resolve_model_path(DEFAULT_EMBEDDING_MODEL)) / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert digest == UPSTREAM_SAFETENSORS_SHA256


def test_default_model_embeds_offline(embedder) -> None:  # type: ignore[no-untyped-def]
    vectors = embedder.embed_documents(["ketamine for chronic pain", "the weather in Phoenix"])
    assert vectors.shape == (2, 384)
    norms = (vectors**2).sum(axis=1)
    assert abs(norms[0] - 1.0) < 1e-4 and abs(norms[1] - 1.0) < 1e-4
    query = embedder.embed_query("ketamine infusions for pain")
    assert float(vectors[0] @ query) > float(vectors[1] @ query)


def test_unknown_model_name_fails_with_a_hint_not_a_download(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from bot.embeddings import SentenceTransformerEmbedder
    from bot.errors import ModelUnavailableError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError, match="PAINBOT_EMBEDDING_MODEL"):
        SentenceTransformerEmbedder("no-such-org/no-such-model")


def test_embedding_calls_use_the_configured_cpu_threads() -> None:
    import torch

    from bot.config import Settings
    from bot.embeddings import load_embedder, set_cpu_threads

    before = torch.get_num_threads()
    try:
        set_cpu_threads(2)
        load_embedder(Settings(embedding_threads=1))
        assert torch.get_num_threads() == 1
        set_cpu_threads(0)  # 0 leaves torch's own choice alone
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
