"""Painbot's error hierarchy. Each message says what to do next."""

from __future__ import annotations


class PainbotError(Exception):
    """Base class for errors a user or maintainer can act on."""


class ConfigurationError(PainbotError):
    """A setting is wrong or a needed optional package is missing."""


class ModelUnavailableError(PainbotError):
    """The embedding model (or the optional LLM) cannot be loaded."""


class VocabularyError(ConfigurationError):
    """corpus/vocabulary.toml is missing or an entry is malformed; the message names it."""


class StoreError(PainbotError):
    """The Chroma store is missing, unreadable or unreachable."""


class StoreMissingError(StoreError):
    """The collection does not exist yet: run the ingest first."""


class StoreMismatchError(StoreError):
    """The collection was built with other embedding or chunking settings."""


class IngestError(PainbotError):
    """A source could not be loaded or stored; the message names the file and the reason."""


class FetchError(IngestError):
    """A remote record (PubMed) could not be fetched."""


class InvalidQuestionError(PainbotError):
    """The question is empty, too long or not text."""
