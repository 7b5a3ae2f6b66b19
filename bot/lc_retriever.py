"""A LangChain retriever over a loaded Bot, so painbot's hybrid search composes into LCEL chains.

Importing this module imports langchain_core; `Bot.as_retriever()` imports it lazily.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from bot.types import Passage


def passage_to_document(passage: Passage) -> Document:
    """A LangChain Document carrying the passage text, its ids, scores and source metadata."""
    metadata: dict[str, Any] = {
        **passage.metadata,
        "chunk_id": passage.chunk_id,
        "source_id": passage.source_id,
        "section": passage.section,
        "score": passage.score,
        "similarity": passage.similarity,
    }
    return Document(page_content=passage.text, metadata=metadata, id=passage.chunk_id)


class PainbotRetriever(BaseRetriever):
    """Painbot's retrieval (dense + BM25, fused, reranked) as a LangChain retriever.

    ``bot`` is a loaded :class:`bot.pipeline.Bot`; ``k`` is the number of documents returned.
    """

    bot: Any
    k: int = 6

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [passage_to_document(p) for p in self.bot.search(query, self.k)]


__all__ = ["PainbotRetriever", "passage_to_document"]
