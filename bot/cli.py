"""`python -m bot ask|search|feedback`: the query side from a terminal, rendering the same Answer.

Exit codes: 0 done, 1 nothing to do (no feedback yet), 2 usage, configuration or store error.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from pydantic import ValidationError

from bot import prompts
from bot.config import Settings
from bot.errors import PainbotError, StoreMissingError
from bot.types import Answer, Passage

if TYPE_CHECKING:
    from bot.pipeline import Bot

log = logging.getLogger(__name__)


@dataclass
class _Options:
    store: Path | None = None
    collection: str | None = None

    def settings(self, store: Path | None, collection: str | None) -> Settings:
        """Settings from the environment, with --store/--collection (sub-command wins)."""
        try:
            settings = Settings()
        except ValidationError as exc:
            raise click.UsageError(f"a PAINBOT_ setting is invalid: {exc}") from exc
        update: dict[str, Any] = {}
        if store or self.store:
            update["store_dir"] = store or self.store
        if collection or self.collection:
            update["collection"] = collection or self.collection
        return settings.model_copy(update=update)


def _load_bot(settings: Settings) -> Bot:
    """The loaded bot, or a PainbotError saying how to build the store."""
    import bot

    where = settings.chroma_url or settings.store_dir
    if not settings.chroma_url and not Path(settings.store_dir).is_dir():
        raise StoreMissingError(
            f"No store at {where}: run `python -m ingest` (or make run) to build it, or pass "
            "--store with the folder of an existing store."
        )
    loaded = bot.load(settings)
    if not loaded.stats().get("chunks"):
        raise StoreMissingError(
            f"The collection {settings.collection!r} in {where} is empty: run "
            "`python -m ingest` to add the corpus."
        )
    return loaded


def render_answer(answer: Answer) -> str:
    """Plain text: the answer, numbered sources with labels and links, the disclaimer."""
    blocks = [answer.text]
    if answer.words:
        words = "\n".join(
            [prompts.WORDS_TO_KNOW] + [f"- {w.term}: {w.definition}" for w in answer.words]
        )
        blocks.insert(0 if answer.words_first else 1, words)
    if answer.citations:
        lines = ["Sources:"]
        for c in answer.citations:
            lines.append(f"[{c.n}] {c.label}" + (f" - {c.url}" if c.url else ""))
        blocks.append("\n".join(lines))
    blocks.append(answer.disclaimer)
    return "\n\n".join(blocks)


def _passage_json(passage: Passage) -> dict[str, Any]:
    return {
        "chunk_id": passage.chunk_id,
        "source_id": passage.source_id,
        "section": passage.section,
        "score": round(passage.score, 6),
        "similarity": round(passage.similarity, 6),
        "title": passage.metadata.get("title"),
        "url": passage.metadata.get("url"),
        "text": passage.text,
    }


def render_passages(passages: Sequence[Passage]) -> str:
    from bot.citations import citation_label

    blocks = []
    for i, p in enumerate(passages, 1):
        url = p.metadata.get("url")
        head = f"[{i}] {citation_label(p)}" + (f" - {url}" if url else "")
        blocks.append(f"{head}\n    ({p.chunk_id}, score {p.score:.3f})\n    {p.text[:300]}")
    return "\n\n".join(blocks)


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed row) for each non-blank line of a JSONL file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise click.UsageError(f"{path} line {number} is not JSON ({exc.msg}).") from exc


def _read_questions(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, row in _jsonl_rows(path):
        if not isinstance(row, dict) or not isinstance(row.get("question"), str):
            raise click.UsageError(
                f'{path} line {number} needs a "question" string, e.g. {{"question": "..."}}.'
            )
        rows.append(row)
    return rows


_ID_FIELDS = ("_id", "id", "query_id")
_TEXT_FIELDS = ("text", "question", "query")


def read_queries(path: Path) -> list[tuple[str, str]]:
    """(query id, text) pairs from JSONL: BEIR's {"_id", "text"} or {"id", "question"} lines."""
    rows = []
    for number, row in _jsonl_rows(path):
        qid = next((row[f] for f in _ID_FIELDS if isinstance(row, dict) and f in row), None)
        text = next((row[f] for f in _TEXT_FIELDS if isinstance(row, dict) and f in row), None)
        if qid is None or not isinstance(text, str) or not text.strip():
            raise click.UsageError(
                f'{path} line {number} needs an id and a text, e.g. {{"_id": "1", "text": "..."}}'
                ' or {"id": "1", "question": "..."}.'
            )
        rows.append((str(qid), text))
    return rows


_store_option = click.option(
    "--store", type=click.Path(path_type=Path), help="Store folder (PAINBOT_STORE_DIR)."
)
_collection_option = click.option("--collection", help="Collection name (PAINBOT_COLLECTION).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@_store_option
@_collection_option
@click.pass_context
def cli(ctx: click.Context, store: Path | None, collection: str | None) -> None:
    """Ask painbot questions and search its sources from the terminal.

    \b
      python -m bot ask "Is ketamine good for CRPS?" [--json] [--history Q]...
      python -m bot ask --questions FILE.jsonl
      python -m bot search "ketamine CRPS" [-k N] [--json]
      python -m bot search --queries FILE.jsonl [-k 100]
      python -m bot feedback --export FILE.csv
      python -m bot feedback report [--since YYYY-MM-DD] [--csv FILE.csv]
    """
    ctx.obj = _Options(store, collection)


@cli.command("ask")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option(
    "--history",
    multiple=True,
    help="An earlier question, oldest first; repeat for several (--history A --history B).",
)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSONL file, one {"question": ..., "history": [...]} per line; prints one JSON each.',
)
@_store_option
@_collection_option
@click.pass_obj
def ask_command(
    options: _Options,
    question: str | None,
    as_json: bool,
    history: Sequence[str],
    questions: Path | None,
    store: Path | None,
    collection: str | None,
) -> None:
    """Answer a question (or every question in a JSONL file) from the sources."""
    if (question is None) == (questions is None):
        raise click.UsageError("Give either a QUESTION or --questions FILE.jsonl, not both.")
    rows = _read_questions(questions) if questions else []
    loaded = _load_bot(options.settings(store, collection))
    if questions is not None:
        for row in rows:
            answer = loaded.answer(
                row["question"], tuple(row.get("history") or ()), id=row.get("id")
            )
            click.echo(json.dumps({**answer.to_json(), "question": row["question"]}))
        return
    assert question is not None
    answer = loaded.answer(question, tuple(history))
    click.echo(json.dumps(answer.to_json()) if as_json else render_answer(answer))


@cli.command("search")
@click.argument("query", required=False)
@click.option(
    "-k", "--k", "k", type=click.IntRange(1, 1000), default=None, help="Passages to show."
)
@click.option("--json", "as_json", is_flag=True, help="Print the passages as JSON.")
@click.option(
    "--queries",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSONL file of queries ({"_id", "text"} as in BEIR, or {"id", "question"}); prints '
    'one {"query_id", "results"} JSON line per query.',
)
@_store_option
@_collection_option
@click.pass_obj
def search_command(
    options: _Options,
    query: str | None,
    k: int | None,
    as_json: bool,
    queries: Path | None,
    store: Path | None,
    collection: str | None,
) -> None:
    """Show the passages retrieval finds for QUERY (dense + keyword, fused, reranked)."""
    if (query is None) == (queries is None):
        raise click.UsageError("Give either a QUERY or --queries FILE.jsonl, not both.")
    rows = read_queries(queries) if queries else []
    settings = options.settings(store, collection)
    loaded = _load_bot(settings)
    depth = k or settings.top_k
    if queries is not None:
        for qid, text in rows:
            results = [
                {"rank": rank, **_passage_json(p)}
                for rank, p in enumerate(loaded.search(text, depth), 1)
            ]
            click.echo(json.dumps({"query_id": qid, "results": results}))
        return
    assert query is not None
    passages = loaded.search(query, depth)
    if as_json:
        click.echo(json.dumps([_passage_json(p) for p in passages]))
    else:
        click.echo(render_passages(passages) if passages else "No passages found.")


_db_option = click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), help="Feedback SQLite file."
)


def _feedback_db(options: _Options, db: Path | None) -> Path:
    path = db or options.settings(None, None).feedback_db
    if not path.exists():
        click.echo(f"No feedback yet: {path} does not exist.", err=True)
        sys.exit(1)
    return path


@cli.group("feedback", invoke_without_command=True)
@click.option("--export", type=click.Path(dir_okay=False, path_type=Path), help="CSV to write.")
@_db_option
@click.pass_context
def feedback_command(ctx: click.Context, export: Path | None, db: Path | None) -> None:
    """Export the thumbs up/down ratings (answer id, verdict, rating, time) as CSV, or
    `feedback report` for staff."""
    if ctx.invoked_subcommand is not None:
        return
    if export is None:
        raise click.UsageError("Give --export FILE.csv, or use `feedback report`.")
    from bot.feedback import FeedbackStore

    count = FeedbackStore(_feedback_db(ctx.obj, db)).export_csv(export)
    click.echo(f"Wrote {count} ratings to {export}", err=True)


@feedback_command.command("report")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day to include (YYYY-MM-DD).",
)
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write CSV."
)
@_db_option
@click.pass_obj
def feedback_report_command(
    options: _Options, since: datetime | None, csv_path: Path | None, db: Path | None
) -> None:
    """Thumbs up/down per verdict and per cited source, and the not-covered rate per day.
    Holds no question text."""
    from bot.feedback_report import build_report

    report = build_report(_feedback_db(options, db), since.date() if since else None)
    click.echo(report.text())
    if csv_path is not None:
        rows = report.write_csv(csv_path)
        click.echo(f"Wrote {rows} rows to {csv_path}", err=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (errors become a message on stderr, never a trace)."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)  # on the handler: bm25s sets its own logger to DEBUG
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        click.echo("Interrupted.", err=True)
        return 130
    except PainbotError as exc:
        click.echo(f"Error: {exc}", err=True)
        return 2
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


__all__ = ["cli", "main", "render_answer"]
