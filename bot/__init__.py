"""painbot's query side: `bot.load(settings)` returns a Bot that answers questions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.types import Answer

if TYPE_CHECKING:
    from bot.evidence import EvidenceModel
    from bot.pipeline import Bot

__all__ = ["Answer", "Bot", "Settings", "load"]


def load(settings: Settings, evidence_model: EvidenceModel | None = None) -> Bot:
    """Load the embedder, the store and the keyword index once; see bot.pipeline.load.

    With ``settings.answer_cache`` on, ``answer`` reuses answers (bot/answer_cache.py).
    """
    from bot.answer_cache import install
    from bot.pipeline import load as _load

    loaded = _load(settings, evidence_model)
    install(loaded, settings)
    return loaded


def __getattr__(name: str) -> Any:
    if name == "Bot":
        from bot.pipeline import Bot

        return Bot
    raise AttributeError(name)
