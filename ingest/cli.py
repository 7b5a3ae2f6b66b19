"""`python -m ingest [PATH ...]` and `python -m ingest pubmed PMID ...`: the write side's CLI.

Exit codes: 0 all went in, 1 something failed (listed), 2 usage or configuration error.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from bot.config import Settings
from bot.errors import PainbotError
from ingest.index import IngestReport

log = logging.getLogger(__name__)


class _DefaultGroup(click.Group):
    """A group whose first argument, when it is not a sub-command, goes to `run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _settings(store: Path | None, collection: str | None) -> Settings:
    try:
        settings = Settings()  # values come from env/defaults
    except ValidationError as exc:
        raise click.UsageError(f"a PAINBOT_ setting is invalid: {exc}") from exc
    update: dict[str, Any] = {}
    if store is not None:
        update["store_dir"] = store
    if collection:
        update["collection"] = collection
    return settings.model_copy(update=update)


def _run_or_exit(action: Callable[[], IngestReport]) -> IngestReport:
    try:
        return action()
    except PainbotError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo(
            "Interrupted. The store still shows the previous version of every document not yet "
            "finished; run the same command again to complete the ingest.",
            err=True,
        )
        sys.exit(130)


def _finish(report: IngestReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        click.echo(
            f"{report.added} added, {report.replaced} replaced, {report.skipped} unchanged, "
            f"{report.deleted} deleted, {len(report.failed)} failed; {report.chunks} chunks "
            f"embedded in {report.seconds:.1f} s",
            err=True,
        )
        for failure in report.failed:
            click.echo(f"  failed: {failure['path']}: {failure['reason']}", err=True)
        _echo_reviews(report.overdue, report.unreviewed)
        if report.without_plain:
            click.echo(
                "  no plain-language summary yet (write one in corpus/plain/): "
                + ", ".join(report.without_plain),
                err=True,
            )
    sys.exit(1 if report.failed else 0)


def _echo_reviews(overdue: Sequence[dict[str, Any]], unreviewed: int) -> None:
    for status in overdue:
        click.echo(
            f"  review overdue: {status['title']} ({status['source_id']}): last reviewed "
            f"{status['reviewed']}, due {status['due']}",
            err=True,
        )
    if unreviewed:
        click.echo(
            f"  {unreviewed} source(s) have no `reviewed` date in their front matter", err=True
        )


def _check_reviews(settings: Settings, targets: Sequence[Path], as_json: bool) -> None:
    """--check: review dates of the files only (no store, no model); exit 1 when any is due."""
    from bot.review import check_reviews
    from ingest.load import load_documents

    loaded = load_documents(targets, max_bytes=int(settings.max_file_mb * 1024 * 1024))
    reviews = check_reviews((doc.source_id, doc.metadata) for doc, _ in loaded.documents)
    if as_json:
        click.echo(json.dumps({**reviews.to_json(), "unreviewed_ids": list(reviews.unreviewed)}))
    else:
        _echo_reviews([s.to_json() for s in reviews.overdue], len(reviews.unreviewed))
        for source_id in reviews.unreviewed:
            click.echo(f"    not reviewed: {source_id}", err=True)
        if reviews.ok:
            click.echo(f"{len(loaded.documents)} sources, all reviews up to date", err=True)
    sys.exit(0 if reviews.ok else 1)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Build painbot's store from source documents.

    \b
      python -m ingest [PATH ...] [--store DIR] [--collection NAME] [--rebuild]
                       [--no-prune] [--json]
      python -m ingest --check [PATH ...]     review dates only; exit 1 when one is due
      python -m ingest pubmed PMID [PMID ...] [--out DIR] [--json]

    PATH is a file or folder (default: the corpus folder). Exit code 0: all went in; 1: some
    files failed (listed); 2: usage or configuration error.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


_store_option = click.option(
    "--store", type=click.Path(path_type=Path), help="Store folder (PAINBOT_STORE_DIR)."
)
_collection_option = click.option("--collection", help="Collection name (PAINBOT_COLLECTION).")
_json_option = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")


@cli.command("run")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_store_option
@_collection_option
@click.option("--rebuild", is_flag=True, help="Drop the collection and build it again.")
@click.option("--prune/--no-prune", default=True, help="Delete sources gone from the folders.")
@click.option(
    "--check",
    is_flag=True,
    help="Ingest nothing: exit 1 when a source's review is overdue or it has no `reviewed` "
    "date (for a cron job).",
)
@_json_option
def run_command(
    paths: Sequence[Path],
    store: Path | None,
    collection: str | None,
    rebuild: bool,
    prune: bool,
    check: bool,
    as_json: bool,
) -> None:
    """Ingest files and folders (Markdown, text, PDF, HTML, BEIR JSONL)."""
    from bot.vocabulary import corpus_vocabulary
    from ingest.index import ingest_paths

    settings = _settings(store, collection)
    targets = list(paths) or [settings.corpus_dir]
    if check:
        _check_reviews(settings, targets, as_json)

    def check_and_ingest() -> IngestReport:
        # The bot reads corpus/vocabulary.toml at start: a broken entry is reported now.
        corpus_vocabulary(settings.corpus_dir)
        return ingest_paths(
            settings, targets, prune=prune, rebuild=rebuild, progress=sys.stderr.isatty()
        )

    report = _run_or_exit(check_and_ingest)
    _finish(report, as_json)


def _fetch_options(command: Callable[..., None]) -> Callable[..., None]:
    """--out, --store, --collection and --json, shared by the commands that fetch sources."""
    for option in reversed(
        [
            click.option(
                "--out",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Folder for the saved sources (default: <corpus>/references).",
            ),
            _store_option,
            _collection_option,
            _json_option,
        ]
    ):
        command = option(command)
    return command


def _fetch_and_finish(
    fetch: Callable[[Settings, Path], IngestReport],
    out: Path | None,
    store: Path | None,
    collection: str | None,
    as_json: bool,
) -> None:
    settings = _settings(store, collection)
    folder = out or settings.corpus_dir / "references"
    _finish(_run_or_exit(lambda: fetch(settings, folder)), as_json)


@cli.command("pubmed")
@click.argument("pmids", nargs=-1, required=True)
@_fetch_options
def pubmed_command(
    pmids: Sequence[str],
    out: Path | None,
    store: Path | None,
    collection: str | None,
    as_json: bool,
) -> None:
    """Fetch PubMed records by PMID, save them as corpus records and ingest them."""
    from ingest.pubmed import fetch_and_ingest

    _fetch_and_finish(
        lambda settings, folder: fetch_and_ingest(settings, list(pmids), folder),
        out,
        store,
        collection,
        as_json,
    )


@cli.command("url")
@click.argument("urls", nargs=-1, required=True)
@_fetch_options
def url_command(
    urls: Sequence[str],
    out: Path | None,
    store: Path | None,
    collection: str | None,
    as_json: bool,
) -> None:
    """Download web pages or PDFs by address, save them in the corpus and ingest them."""
    from ingest.web_fetch import fetch_and_ingest_urls

    _fetch_and_finish(
        lambda settings, folder: fetch_and_ingest_urls(settings, list(urls), folder),
        out,
        store,
        collection,
        as_json,
    )


def main() -> None:
    """Console entry point."""
    cli()
