"""Hostile files in an ingested folder: each is refused with a reason and the store is unchanged."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.store import ChunkStore, chunking_signature
from ingest.index import ingest_paths

GOOD = {
    "alpha": "Ketamine infusions can ease some nerve pain for a few weeks.",
    "beta": "Psilocybin is being studied for cluster headache and fibromyalgia.",
}


def write_good(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for source_id, text in GOOD.items():
        (folder / f"{source_id}.md").write_text(
            f"---\nid: {source_id}\ntitle: About {source_id}\n---\n\n## Summary\n\n{text}\n",
            encoding="utf-8",
        )


def snapshot(settings: Settings, embedder: Any) -> tuple[Any, ...]:
    """Everything in both collections: manifest records, chunk ids, texts and metadata."""
    store = ChunkStore.open(
        settings,
        embedding_model=embedder.model_id,
        dimension=embedder.dimension,
        chunking=chunking_signature(settings),
    )
    chunks = [
        (record_id, meta)
        for ids, metas, _docs in store._pages(store._chunks, documents=True)
        for record_id, meta in zip(ids, metas, strict=True)
    ]
    texts = [
        doc for _ids, _metas, docs in store._pages(store._chunks, documents=True) for doc in docs
    ]
    return (store.sources(), sorted(chunks, key=str), sorted(texts))


# --- hostile files: each writer returns the name of the file the report must name -------------
def pdf_bytes(objects: list[bytes]) -> bytes:
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def pdf_with(kids: int, content: bytes, compressed: bool) -> bytes:
    stream = zlib.compress(content, 9) if compressed else content
    flate = b" /Filter /FlateDecode" if compressed else b""
    return pdf_bytes(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [" + b"3 0 R " * kids + b"] /Count %d >>" % kids,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d%s >>\nstream\n" % (len(stream), flate) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )


def huge_file(folder: Path, outside: Path) -> str:
    path = folder / "huge.txt"
    with path.open("wb") as handle:  # sparse: 21 MB on paper, nothing on disk
        handle.truncate(21 * 2**20)
    return path.name


def zip_bomb_pdf(folder: Path, outside: Path) -> str:
    # 80 MB of drawing operators that deflate to ~80 KB: over pypdf's 75 MB output cap.
    line = b"BT /F1 12 Tf 72 720 Td (ketamine) Tj ET\n"
    (folder / "bomb.pdf").write_bytes(pdf_with(1, line * (80 * 2**20 // len(line)), True))
    return "bomb.pdf"


def many_pages_pdf(folder: Path, outside: Path) -> str:
    page = b"BT /F1 12 Tf 72 720 Td (ketamine page) Tj ET"
    (folder / "pages.pdf").write_bytes(pdf_with(5000, page, False))  # ~30 KB, 5000 pages
    return "pages.pdf"


def binary_renamed_md(folder: Path, outside: Path) -> str:
    (folder / "photo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000))
    return "photo.md"


def binary_without_nul_md(folder: Path, outside: Path) -> str:
    (folder / "blob.md").write_bytes(bytes(range(0x80, 0x100)) * 20)
    return "blob.md"


def front_matter_not_yaml(folder: Path, outside: Path) -> str:
    (folder / "gamma.md").write_text(
        "---\nid: gamma\ntitle: [unclosed\n  : : :\n---\n\nText about ketamine.\n",
        encoding="utf-8",
    )
    return "gamma.md"


def front_matter_not_a_mapping(folder: Path, outside: Path) -> str:
    (folder / "delta.md").write_text("---\n- a\n- b\n---\n\nText.\n", encoding="utf-8")
    return "delta.md"


def yaml_alias_bomb(folder: Path, outside: Path) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    text = "---\nid: laughs\n" + "\n".join(lines) + "\n---\n\nText.\n"
    (folder / "laughs.md").write_text(text, encoding="utf-8")
    return "laughs.md"


def yaml_deeply_nested(folder: Path, outside: Path) -> str:
    text = "---\nid: deep\nx: " + "[" * 50_000 + "]" * 50_000 + "\n---\n\nText.\n"
    (folder / "deep.md").write_text(text, encoding="utf-8")
    return "deep.md"


def duplicate_id_sorting_first(folder: Path, outside: Path) -> str:
    # Sorts before alpha.md, so a first-wins rule would silently replace alpha's text.
    (folder / "0-impostor.md").write_text(
        "---\nid: alpha\ntitle: Impostor\n---\n\nKetamine cures everything.\n", encoding="utf-8"
    )
    return "0-impostor.md"


def duplicate_id_sorting_last(folder: Path, outside: Path) -> str:
    (folder / "zz-copy.md").write_text(
        "---\nid: beta\ntitle: Copy\n---\n\nA different text.\n", encoding="utf-8"
    )
    return "zz-copy.md"


def symlinked_file_outside(folder: Path, outside: Path) -> str:
    secret = outside / "secret.md"
    secret.write_text("---\nid: secret\n---\n\nPrivate notes.\n", encoding="utf-8")
    (folder / "link.md").symlink_to(secret)
    return "link.md"


def symlinked_folder_outside(folder: Path, outside: Path) -> str:
    (outside / "private").mkdir()
    (outside / "private" / "notes.md").write_text("---\nid: notes\n---\n\nPrivate.\n")
    (folder / "shared").symlink_to(outside / "private", target_is_directory=True)
    return "shared"


def good_file_turned_binary(folder: Path, outside: Path) -> str:
    (folder / "alpha.md").write_bytes(b"\x00\x01\x02" * 100)
    return "alpha.md"


def good_file_emptied(folder: Path, outside: Path) -> str:
    (folder / "beta.md").write_bytes(b"")
    return "beta.md"


HOSTILE: list[tuple[Callable[[Path, Path], str], str]] = [
    (huge_file, "limit"),
    (zip_bomb_pdf, "unreadable PDF"),
    (many_pages_pdf, "page limit"),
    (binary_renamed_md, "binary"),
    (binary_without_nul_md, "UTF-8"),
    (front_matter_not_yaml, "YAML"),
    (front_matter_not_a_mapping, "mapping"),
    (yaml_alias_bomb, "aliases"),
    (yaml_deeply_nested, "nested too deeply"),
    (duplicate_id_sorting_first, "used by another file"),
    (duplicate_id_sorting_last, "duplicate id"),
    (symlinked_file_outside, "outside"),
    (symlinked_folder_outside, "outside"),
    (good_file_turned_binary, "binary"),
    (good_file_emptied, "empty"),
]


@pytest.mark.parametrize(("make", "reason"), HOSTILE, ids=[m.__name__ for m, _ in HOSTILE])
def test_hostile_file_is_refused_and_store_unchanged(
    tmp_path: Path, embedder: Any, make: Callable[[Path, Path], str], reason: str
) -> None:
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    write_good(folder)
    outside.mkdir()
    settings = Settings(store_dir=tmp_path / "chroma", corpus_dir=folder)
    first = ingest_paths(settings, [folder], embedder=embedder)
    assert first.added == 2 and not first.failed
    before = snapshot(settings, embedder)

    name = make(folder, outside)
    report = ingest_paths(settings, [folder], embedder=embedder)

    named = [f for f in report.failed if Path(f["path"]).name == name]
    assert named, report.failed
    assert any(reason in f["reason"] for f in named), named
    assert report.added == report.replaced == report.deleted == 0
    assert snapshot(settings, embedder) == before


def test_size_limit_is_a_setting(tmp_path: Path, embedder: Any) -> None:
    folder = tmp_path / "corpus"
    write_good(folder)
    (folder / "long.md").write_text("---\nid: long\n---\n\n" + "Ketamine text. " * 2000)
    settings = Settings(store_dir=tmp_path / "chroma", max_file_mb=0.01)
    report = ingest_paths(settings, [folder], embedder=embedder)
    assert report.added == 2
    assert [Path(f["path"]).name for f in report.failed] == ["long.md"]
    assert "over the 0.01 MB limit" in report.failed[0]["reason"]
    assert "PAINBOT_MAX_FILE_MB" in report.failed[0]["reason"]


def test_all_hostile_files_at_once_leave_good_ones_working(tmp_path: Path, embedder: Any) -> None:
    """Every hostile file in one folder: one run reports them all and keeps the good ones."""
    folder, outside = tmp_path / "corpus", tmp_path / "outside"
    write_good(folder)
    outside.mkdir()
    settings = Settings(store_dir=tmp_path / "chroma")
    ingest_paths(settings, [folder], embedder=embedder)
    names = {make(folder, outside) for make, _ in HOSTILE}
    report = ingest_paths(settings, [folder], embedder=embedder)
    assert names <= {Path(f["path"]).name for f in report.failed}
    assert set(snapshot(settings, embedder)[0]) == {"alpha", "beta"}
