"""docs/benchmarks.md sections are replaced in place; other engineers' sections survive."""

from __future__ import annotations

from pathlib import Path

from benchmarks.report import write_section


def test_write_section_replaces_only_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text(
        "# Benchmarks\n\n## Ingest\n\nrows\n\n## Quality (make eval)\n\nold\n\n### sub\n\nx\n"
    )
    write_section("Quality (make eval)", "new table", path)
    write_section("Speed (make bench)", "speed", path)
    write_section("Speed (make bench)", "speed 2", path)
    text = path.read_text()
    assert "## Ingest\n\nrows" in text
    assert "old" not in text and "### sub" not in text
    assert "new table" in text
    assert text.count("## Speed (make bench)") == 1 and "speed 2" in text


def test_write_section_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"
    write_section("Speed (make bench)", "speed", path)
    assert path.read_text().startswith("# Benchmarks")
