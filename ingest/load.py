"""One small reader per kind of source: Markdown, plain text, PDF, saved HTML, BEIR JSONL.

Each reader turns a file into Documents or raises IngestError with a reason a maintainer can
act on; `load_documents` walks files and folders, reports bad files and keeps going.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import IngestError
from bot.types import Document, Section

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
"""Default size limit per file (Settings.max_file_mb overrides it); also caps a PDF's text."""
MAX_PDF_PAGES = 2000
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SKIPPED_NAMES = {"readme.md", "readme.txt", "license", "license.md", "glossary.md"}
"""glossary.md holds plain definitions shown under answers (bot/glossary.py), not a source."""


@dataclass(frozen=True)
class LoadFailure:
    """A file (or one line of it) that could not be loaded, and why."""

    path: str
    reason: str


@dataclass
class LoadResult:
    """What a batch of paths produced: documents (with their root folder) and failures.

    `duplicates` names ids claimed by more than one file: the first file's document is in
    `documents`, but the ingest must not trust either until the clash is fixed.
    """

    documents: list[tuple[Document, Path | None]] = field(default_factory=list)
    failed: list[LoadFailure] = field(default_factory=list)
    duplicates: set[str] = field(default_factory=set)


# --- helpers --------------------------------------------------------------------------------
def _limit(max_bytes: int | None) -> int:
    return max_bytes if max_bytes is not None else MAX_FILE_BYTES


def _read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    size = path.stat().st_size
    limit = _limit(max_bytes)
    if size == 0:
        raise IngestError(f"{path}: the file is empty; remove it or add its text.")
    if size > limit:
        raise IngestError(
            f"{path}: {size / 2**20:.3g} MB is over the {limit / 2**20:.3g} MB limit "
            "(PAINBOT_MAX_FILE_MB); split it or save only the text."
        )
    with path.open("rb") as handle:  # read at most the limit, even if the file grows meanwhile
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise IngestError(f"{path}: the file grew over the {limit / 2**20:.3g} MB limit; retry.")
    return data


def _read_text(path: Path, max_bytes: int | None = None) -> str:
    data = _read_bytes(path, max_bytes)
    if b"\x00" in data[:8192]:
        raise IngestError(f"{path}: this looks like a binary file, not text; check its type.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8."
        ) from exc
    if not text.strip():
        raise IngestError(f"{path}: the file holds only whitespace; remove it or add its text.")
    return text


def _plain(value: Any) -> Any:
    """Front-matter values as JSON-friendly scalars or lists (dates become ISO strings)."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _source_id(value: Any, path: Path) -> str:
    source_id = str(value).strip() if value is not None else ""
    if not source_id or any(ch in source_id for ch in "@\n"):
        raise IngestError(
            f"{path}: the id {value!r} is not usable; give the record a one-line `id` without '@'."
        )
    return source_id


def sections_from_markdown(body: str, default_title: str) -> tuple[Section, ...]:
    """Split Markdown at headings; text before the first heading goes under default_title."""
    sections: list[Section] = []
    title = default_title
    lines: list[str] = []
    for line in body.splitlines():
        match = _HEADING.match(line)
        if match:
            if "\n".join(lines).strip():
                sections.append(Section(title, "\n".join(lines).strip()))
            title, lines = match.group(2).strip(), []
        else:
            lines.append(line)
    if "\n".join(lines).strip():
        sections.append(Section(title, "\n".join(lines).strip()))
    return tuple(sections)


def _no_alias_loader() -> Any:
    """A safe YAML loader that refuses aliases: `*a` references can expand exponentially."""
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not allowed", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)

    return NoAliasLoader


# --- readers, one per kind ------------------------------------------------------------------
def load_markdown(path: Path, max_bytes: int | None = None) -> list[Document]:
    """Markdown with optional YAML front matter; `id` is the source id, `## ` starts sections."""
    import frontmatter
    import yaml

    text = _read_text(path, max_bytes)
    handler = frontmatter.YAMLHandler()
    meta: Any = {}
    body = text
    if handler.detect(text):
        try:
            raw, body = handler.split(text)
            # Parsed here rather than by frontmatter.parse, which silently drops a list.
            meta = yaml.load(raw, Loader=_no_alias_loader()) if raw.strip() else {}
        except yaml.YAMLError as exc:
            raise IngestError(
                f"{path}: the front matter is not valid YAML ({exc}); fix it."
            ) from exc
        except RecursionError as exc:
            raise IngestError(f"{path}: the front matter is nested too deeply; fix it.") from exc
        except ValueError as exc:
            raise IngestError(
                f"{path}: the front matter could not be read ({exc}); it must be a YAML "
                "mapping between two `---` lines."
            ) from exc
    if not isinstance(meta, dict):
        raise IngestError(
            f"{path}: the front matter must be a YAML mapping (key: value lines); fix it."
        )
    metadata = {str(k): _plain(v) for k, v in meta.items()}
    source_id = _source_id(metadata.get("id", path.stem), path)
    title = str(metadata.get("title") or path.stem)
    sections = sections_from_markdown(body, title)
    if not sections:
        raise IngestError(f"{path}: the record has front matter but no text; add its text.")
    metadata.setdefault("title", title)
    return [Document(source_id, title, sections, metadata)]


def load_text(path: Path, max_bytes: int | None = None) -> list[Document]:
    """Plain text: one section titled after the file."""
    text = _read_text(path, max_bytes)
    title = path.stem.replace("_", " ").replace("-", " ")
    return [Document(path.stem, title, (Section(title, text.strip()),), {"title": title})]


def load_pdf(path: Path, max_bytes: int | None = None) -> list[Document]:
    """A PDF's extracted text (pypdf); scanned PDFs without a text layer are refused.

    A small PDF can declare huge compressed streams or thousands of pages, so the page count
    and the extracted text are capped too (pypdf caps each decompressed stream itself).
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    limit = _limit(max_bytes)
    data = _read_bytes(path, max_bytes)
    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise IngestError(
                f"{path}: {len(reader.pages)} pages is over the {MAX_PDF_PAGES}-page limit; "
                "split the PDF or save only the text."
            )
        pages: list[str] = []
        size = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            size += len(pages[-1])
            if size > limit:
                raise IngestError(
                    f"{path}: the PDF's text is over the {limit / 2**20:.3g} MB limit (a "
                    "compressed stream that expands hugely?); save only the text instead."
                )
        info = reader.metadata
    except (PyPdfError, ValueError, KeyError, OSError, RecursionError) as exc:
        raise IngestError(
            f"{path}: unreadable PDF ({exc.__class__.__name__}: {exc}); re-save or re-download it."
        ) from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise IngestError(
            f"{path}: the PDF has no text layer (a scan?); run OCR or save the text instead."
        )
    title = str(info.title).strip() if info is not None and info.title else path.stem
    meta: dict[str, Any] = {"title": title}
    if info is not None and info.author:
        meta["authors"] = str(info.author)
    return [Document(path.stem, title, (Section(title, text),), meta)]


def load_html(path: Path, max_bytes: int | None = None) -> list[Document]:
    """A saved web page: main text only (no nav, scripts, footers), headings as sections."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path, max_bytes), "html.parser")
    for tag in soup(["nav", "script", "style", "footer", "header", "aside", "form", "noscript"]):
        tag.decompose()
    page_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    root = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    h1 = ""
    for el in root.find_all(["h1", "h2", "h3", "h4", "p", "li", "blockquote", "pre"]):
        if el.find_parent(["li", "blockquote"]) is not None and el.name in ("p", "li"):
            continue
        words = el.get_text(" ", strip=True)
        if not words:
            continue
        if el.name in ("h1", "h2", "h3", "h4"):
            h1 = h1 or (words if el.name == "h1" else "")
            lines += ["", f"## {words}", ""]
        elif el.name == "li":
            lines.append(f"- {words}")
        else:
            lines += [words, ""]
    title = page_title or h1 or path.stem
    sections = sections_from_markdown("\n".join(lines), title)
    if not sections:
        raise IngestError(f"{path}: no readable text in the page; save the article page itself.")
    return [Document(path.stem, title, sections, {"title": title})]


def load_jsonl(
    path: Path, failed: list[LoadFailure], max_bytes: int | None = None
) -> list[Document]:
    """BEIR corpus lines {"_id", "title", "text"}; a bad line is reported, the rest load."""
    documents: list[Document] = []
    for number, line in enumerate(_read_text(path, max_bytes).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError("the line is not a JSON object")
            source_id = str(row.get("_id", "")).strip()
            body = str(row.get("text") or "").strip()
            if not source_id or not body:
                raise ValueError("it needs a non-empty `_id` and `text`")
        except (ValueError, TypeError, RecursionError) as exc:
            failed.append(LoadFailure(where, f"malformed JSONL line: {exc}; fix or remove it."))
            continue
        title = str(row.get("title") or "").strip()
        meta = {"title": title, "kind": "benchmark"}
        documents.append(Document(source_id, title, (Section(title, body),), meta))
    return documents


_READERS: dict[str, Callable[[Path, int | None], list[Document]]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
}
SUFFIXES = frozenset([*_READERS, ".jsonl"])


def load_file(
    path: Path, failed: list[LoadFailure], max_bytes: int | None = None
) -> list[Document]:
    """The documents of one file; IngestError when the whole file is unusable."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return load_jsonl(path, failed, max_bytes)
    reader = _READERS.get(suffix)
    if reader is None:
        raise IngestError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; use one of "
            f"{', '.join(sorted(SUFFIXES))}."
        )
    return reader(path, max_bytes)


def _walk(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_symlink() and path.is_dir():
            yield path  # never followed; _files reports it when it points out of the folder
            continue
        if path.name.lower() in _SKIPPED_NAMES or path.suffix.lower() not in SUFFIXES:
            continue
        if path.is_file():
            yield path


def _files(paths: Iterable[Path], failed: list[LoadFailure]) -> Iterator[tuple[Path, Path | None]]:
    """(file, folder it came from or None); symlinks leaving their folder are refused."""
    for given in paths:
        if given.is_dir():
            root = given.resolve()
            for path in _walk(given):
                if not path.resolve().is_relative_to(root):
                    failed.append(
                        LoadFailure(
                            str(path),
                            f"links outside {given} (to {path.resolve()}); copy the file into "
                            "the folder instead.",
                        )
                    )
                    continue
                if path.is_dir():
                    continue  # a link to a folder inside this one: its files are walked anyway
                yield path, given
        elif given.is_file():
            yield given, None
        else:
            failed.append(LoadFailure(str(given), "no such file or folder; check the path."))


def load_documents(paths: Iterable[Path], *, max_bytes: int | None = None) -> LoadResult:
    """Load every file under paths; bad files and duplicate ids are reported, not fatal.

    max_bytes: the size limit per file (default MAX_FILE_BYTES).
    """
    result = LoadResult()
    seen: dict[str, str] = {}
    for path, root in _files(paths, result.failed):
        try:
            documents = load_file(path, result.failed, max_bytes)
        except IngestError as exc:
            result.failed.append(LoadFailure(str(path), str(exc).removeprefix(f"{path}: ")))
            continue
        except OSError as exc:
            result.failed.append(LoadFailure(str(path), f"could not read the file ({exc})."))
            continue
        except Exception as exc:  # one hostile file must not stop the whole ingest
            log.exception("unexpected error reading %s", path)
            result.failed.append(
                LoadFailure(
                    str(path),
                    f"could not be read ({exc.__class__.__name__}); check the file, and "
                    "report it if it looks fine.",
                )
            )
            continue
        for document in documents:
            if document.source_id in seen:
                result.duplicates.add(document.source_id)
                result.failed.append(
                    LoadFailure(
                        str(path),
                        f"duplicate id {document.source_id!r} (also in "
                        f"{seen[document.source_id]}); give each record its own id.",
                    )
                )
                continue
            seen[document.source_id] = str(path)
            relative = str(path.relative_to(root)) if root is not None else str(path)
            result.documents.append(
                (
                    Document(
                        document.source_id,
                        document.title,
                        document.sections,
                        document.metadata,
                        path=relative,
                    ),
                    root,
                )
            )
    return result
