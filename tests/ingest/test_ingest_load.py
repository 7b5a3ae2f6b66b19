"""Each loader, and every kind of bad input reported per file while the rest still loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import load
from ingest.load import load_documents, load_html, load_jsonl, load_markdown, load_pdf, load_text

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
INGEST_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"


def test_markdown_front_matter_and_sections() -> None:
    doc = load_markdown(CORPUS / "references" / "pmid-29870458.md")[0]
    assert doc.source_id == "pmid-29870458"
    assert doc.metadata["short_citation"] == "Cohen et al., 2018 (consensus guideline)"
    assert doc.metadata["kind"] == "reference" and doc.metadata["year"] == 2018
    assert [s.title for s in doc.sections][:3] == [
        "What this document is",
        "Why it was written and how",
        "Evidence by condition",
    ]
    assert not any(line.startswith("## ") for s in doc.sections for line in s.text.splitlines())


def test_corpus_folder_loads_every_record_and_skips_readme() -> None:
    result = load_documents([CORPUS])
    assert not result.failed
    ids = {doc.source_id for doc, _ in result.documents}
    assert "article" in ids and "pmid-29870458" in ids and len(ids) == 8
    assert all(
        doc.path and not doc.path.lower().startswith("readme") for doc, _ in result.documents
    )


def test_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "care_notes.txt"
    path.write_text("Drink water. Rest after the visit.\n", encoding="utf-8")
    doc = load_text(path)[0]
    assert (doc.source_id, doc.title, doc.text) == (
        "care_notes",
        "care notes",
        "Drink water. Rest after the visit.",
    )


def test_pdf_text_and_metadata() -> None:
    doc = load_pdf(INGEST_FIXTURES / "leaflet.pdf")[0]
    assert doc.title == "Ketamine leaflet" and doc.metadata["authors"] == "Test Author"
    assert "reduce pain in CRPS" in doc.text


def test_html_keeps_main_text_and_headings_only() -> None:
    doc = load_html(INGEST_FIXTURES / "page.html")[0]
    assert doc.title == "Ketamine clinic guide"
    assert [s.title for s in doc.sections] == [
        "Ketamine clinic guide",
        "Before the infusion",
        "After the infusion",
    ]
    text = doc.text
    assert "- Arrange a ride home." in text and "Staff watch your heart rate" in text
    for junk in ("tracking", "Menu item", "Site header", "Sidebar", "Copyright", "color: red"):
        assert junk not in text


def test_jsonl_reports_bad_lines_and_loads_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    rows = [
        json.dumps({"_id": "1", "title": "First", "text": "Alpha text."}),
        "{not json",
        json.dumps({"_id": "", "text": "No id."}),
        json.dumps(["a", "list"]),
        json.dumps({"_id": 2, "title": "", "text": "Beta text."}),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    failed: list[load.LoadFailure] = []
    docs = load_jsonl(path, failed)
    assert [d.source_id for d in docs] == ["1", "2"]
    assert docs[0].title == "First" and docs[0].sections[0].text == "Alpha text."
    assert [f.path for f in failed] == [f"{path}:2", f"{path}:3", f"{path}:4"]


def _bad_inputs(folder: Path) -> dict[str, str]:
    """Write one bad file of each kind; return {file name: words the reason must contain}."""
    (folder / "empty.md").write_bytes(b"")
    (folder / "blank.txt").write_text("   \n\n", encoding="utf-8")
    (folder / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (folder / "latin1.md").write_bytes("---\nid: x\n---\nCaf\xe9 au lait.".encode("latin-1"))
    (folder / "list-front.md").write_text("---\n- a\n- b\n---\nBody text.\n", encoding="utf-8")
    (folder / "bad-yaml.md").write_text("---\nid: [unclosed\n---\nBody.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    (folder / "dup.md").write_text("---\nid: good\n---\nAnother text.\n", encoding="utf-8")
    return {
        "empty.md": "empty",
        "blank.txt": "whitespace",
        "binary.md": "binary",
        "latin1.md": "UTF-8",
        "list-front.md": "mapping",
        "bad-yaml.md": "YAML",
        "broken.pdf": "PDF",
        "dup.md": "duplicate id 'good'",
    }


def test_every_bad_input_is_reported_and_the_rest_loads(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a-good.md").write_text(
        "---\nid: good\ntitle: Good\n---\nGood text.\n", encoding="utf-8"
    )
    expected = _bad_inputs(folder)
    result = load_documents([folder])
    assert [doc.source_id for doc, _ in result.documents] == ["good"]
    reasons = {Path(f.path).name: f.reason for f in result.failed}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])


def test_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.txt"
    path.write_text("Long text. " * 50, encoding="utf-8")
    result = load_documents([path])
    assert not result.documents and "limit" in result.failed[0].reason


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path, write_record) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("---\nid: secret\n---\nPrivate notes.\n", encoding="utf-8")
    inside = write_record("inside")
    (inside.parent / "link.md").symlink_to(outside)
    result = load_documents([inside.parent])
    assert [doc.source_id for doc, _ in result.documents] == ["inside"]
    assert "outside" in result.failed[0].reason and result.failed[0].path.endswith("link.md")


def test_missing_path_and_unknown_type_are_reported(tmp_path: Path) -> None:
    other = tmp_path / "notes.docx"
    other.write_bytes(b"PK\x03\x04")
    result = load_documents([tmp_path / "nope", other])
    assert [("no such file" in f.reason, "unsupported" in f.reason) for f in result.failed] == [
        (True, False),
        (False, True),
    ]
