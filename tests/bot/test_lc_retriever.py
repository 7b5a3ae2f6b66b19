"""The LangChain retriever over the real bot: Documents with painbot metadata, usable in LCEL."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from bot.lc_retriever import PainbotRetriever


def test_invoke_returns_documents_with_passage_metadata(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    retriever = corpus_bot.as_retriever(k=6)
    assert isinstance(retriever, PainbotRetriever)
    docs = retriever.invoke("Is ketamine good for CRPS?")
    assert 0 < len(docs) <= 6
    assert all(isinstance(d, Document) and d.page_content for d in docs)
    assert "pmid-29870458" in {d.metadata["source_id"] for d in docs}
    for doc in docs:
        meta = doc.metadata
        assert meta["chunk_id"].startswith(meta["source_id"] + ":")
        assert {"section", "score", "similarity", "title", "kind"} <= set(meta)
    crps = next(d for d in docs if d.metadata["source_id"] == "pmid-29870458")
    assert crps.metadata["verification"] and crps.metadata["url"]
    # Same order and text as the bot's own search.
    passages = corpus_bot.search("Is ketamine good for CRPS?", 6)
    assert [d.metadata["chunk_id"] for d in docs] == [p.chunk_id for p in passages]


def test_k_limits_the_documents(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    assert len(PainbotRetriever(bot=corpus_bot, k=2).invoke("ketamine side effects")) == 2


def test_composes_in_an_lcel_chain(corpus_bot) -> None:  # type: ignore[no-untyped-def]
    def numbered(docs: list[Document]) -> str:
        return "\n".join(f"[{i}] {d.metadata['source_id']}" for i, d in enumerate(docs, 1))

    chain = corpus_bot.as_retriever(k=3) | RunnableLambda(numbered)
    context = chain.invoke("Is ketamine good for CRPS?")
    assert context.startswith("[1] ") and len(context.splitlines()) == 3
    assert chain.batch(["ketamine CRPS", "ketamine depression"])[1].startswith("[1] ")
