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
        load_embedder(Settings(embedding_threads=1, embedding_runtime="torch"))
        assert torch.get_num_threads() == 1
        set_cpu_threads(0)  # 0 leaves torch's own choice alone
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# Texts of every shape the bot embeds: questions, crisis messages in other languages, a passage
# longer than the model's 256 tokens (truncated the same way), empty and odd characters.
ODD_TEXTS = [
    "What is ketamine?",
    "my dad took his dose and now doesnt know where he is",
    "Me siento muy mal y no quiero seguir viviendo",
    "Schmerzen seit Jahren, hilft Ketamin?",
    "ketamine " * 300,
    "",
    "   spaced   out   ",
    "😀🙏🏽",
    "<script>alert(1)</script> CRPS & NMDA",
    "café, naïve, résumé",
]


def test_onnx_runtime_gives_the_sentence_transformers_vectors(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bot.embeddings import OnnxEmbedder, SentenceTransformerEmbedder

    assert isinstance(embedder, OnnxEmbedder), "the default runtime is ONNX"
    reference = SentenceTransformerEmbedder(DEFAULT_EMBEDDING_MODEL)
    passages = (
        (Path(__file__).resolve().parents[1] / "corpus" / "article.md")
        .read_text(encoding="utf-8")
        .split("\n\n")[:40]
    )
    texts = ODD_TEXTS + passages
    ours, theirs = embedder.embed_documents(texts), reference.embed_documents(texts)
    assert ours.shape == theirs.shape == (len(texts), 384)
    assert float(abs(ours - theirs).max()) < 1e-5
    # One text at a time or all together: the same vectors (padding does not leak in). Read
    # without the cache of recent texts, which would answer from the batch above.
    from bot.config import Settings
    from bot.embeddings import load_embedder

    uncached = load_embedder(Settings(embedding_cache_size=0))
    alone = [uncached.embed_query(t) for t in ODD_TEXTS]
    assert float(abs(ours[: len(ODD_TEXTS)] - alone).max()) < 1e-5


def test_recent_texts_are_not_embedded_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.config import Settings
    from bot.embeddings import load_embedder

    cached = load_embedder(Settings(embedding_cache_size=3))
    uncached = load_embedder(Settings(embedding_cache_size=0))
    assert cached is not uncached
    texts = ["What is ketamine?", "Quick question:", "CRPS & NMDA"]
    first = cached.embed_documents(texts)
    runs: list[int] = []
    session_run = cached._session.run
    monkeypatch.setattr(
        cached._session, "run", lambda *a: runs.append(len(a[1]["input_ids"])) or session_run(*a)
    )
    # The same token ids (this model is uncased, so case does not count): no model run.
    again = cached.embed_documents(["what is KETAMINE?", "  Quick question:"])
    assert runs == []
    assert float(abs(again - first[:2]).max()) == 0.0
    # A new text runs alone, its neighbours come from the cache, the oldest entry is dropped.
    mixed = cached.embed_documents(["CRPS & NMDA", "ketamine for pain"])
    assert runs == [1]
    reference = uncached.embed_documents(["CRPS & NMDA", "ketamine for pain"])
    assert float(abs(mixed - reference).max()) < 1e-5
    cached.embed_query("What is ketamine?")
    assert runs == [1, 1], "the cache holds the last 3 texts only"


def test_the_export_is_made_once_and_read_by_later_starts(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from bot import embeddings
    from bot.config import Settings

    settings = Settings(model_dir=tmp_path / "models")
    made = embeddings.load_embedder(settings)
    assert isinstance(made, embeddings.OnnxEmbedder)
    graphs = list((tmp_path / "models").glob("*.onnx"))
    assert len(graphs) == 1

    def no_export(*_: object) -> None:
        pytest.fail("a later start exported the model again")

    monkeypatch.setattr(embeddings, "export_onnx", no_export)
    monkeypatch.setattr(embeddings, "_LOADED", {})
    again = embeddings.load_embedder(settings)
    assert isinstance(again, embeddings.OnnxEmbedder) and again is not made
    assert float(abs(again.embed_query("ketamine") - made.embed_query("ketamine")).max()) == 0.0


def test_a_damaged_export_is_made_again(tmp_path: Path, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from bot import embeddings
    from bot.config import Settings

    settings = Settings(model_dir=tmp_path / "models")
    model_path = Path(resolve_model_path(DEFAULT_EMBEDDING_MODEL))
    graph = embeddings.onnx_path(model_path, settings.model_dir)
    graph.parent.mkdir(parents=True)
    graph.write_bytes(b"half a file")
    monkeypatch.setattr(embeddings, "_LOADED", {})
    loaded = embeddings.load_embedder(settings)
    assert isinstance(loaded, embeddings.OnnxEmbedder)
    assert graph.stat().st_size > 1_000_000
    assert "could not load the ONNX export" in caplog.text


def test_a_model_onnx_cannot_run_as_is_falls_back_to_torch(
    tmp_path: Path, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    """A model whose pooling is not the mean (here: its CLS token) is run by
    sentence-transformers, with a warning, not exported with the wrong pooling."""
    import json

    from bot import embeddings
    from bot.config import Settings

    source = Path(resolve_model_path(DEFAULT_EMBEDDING_MODEL))
    model = tmp_path / "cls-model"
    (model / "1_Pooling").mkdir(parents=True)
    for file in source.iterdir():
        if file.is_file():
            (model / file.name).symlink_to(file)
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (model / "1_Pooling" / "config.json").write_text(json.dumps(pooling), encoding="utf-8")
    assert not embeddings.exportable(model) and embeddings.exportable(source)

    monkeypatch.setattr(embeddings, "_LOADED", {})
    loaded = embeddings.load_embedder(
        Settings(embedding_model=str(model), model_dir=tmp_path / "models")
    )
    assert isinstance(loaded, embeddings.SentenceTransformerEmbedder)
    assert "running it with torch" in caplog.text
    assert not (tmp_path / "models").exists()


def test_a_start_with_the_export_made_loads_no_torch(embedder) -> None:  # type: ignore[no-untyped-def]
    """What makes a cold start quick: the exported graph and the tokenizer, not torch."""
    import subprocess
    import sys

    code = (
        "import sys; from bot.config import Settings; from bot.embeddings import load_embedder; "
        "v = load_embedder(Settings()).embed_query('ketamine'); "
        "print(v.shape, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split()[-3:] == ["(384,)", "False", "False"]


def test_texts_share_an_embedding_call_only_when_nearly_as_long() -> None:
    """Padding a short text to a long one's width costs more than a call of its own."""
    from bot.embeddings import PAD_SLACK, TOKENS_PER_BATCH, _batches

    lengths = [40, 39, 12, 10, 9, 40 - PAD_SLACK, 3]
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches = _batches(order, lengths, 64)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        widest = max(lengths[i] for i in batch)
        assert all(widest - lengths[i] <= PAD_SLACK for i in batch)
        assert len(batch) == 1 or len(batch) * widest <= TOKENS_PER_BATCH
    assert [0, 1, 5] in batches and [2, 3, 4] in batches and [6] in batches
