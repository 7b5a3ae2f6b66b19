"""`python -m security`: audit constraints.txt against the index's advisories.

Exit codes: 0 no unaccepted advisory, 1 an advisory nobody has accepted yet, 2 bad input,
3 the index could not be reached (0 with --allow-offline, after saying so).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import click

from security.advisories import DEFAULT_INDEX_URL, AdvisoryClient, IndexUnreachableError
from security.audit import (
    CONSTRAINTS,
    KNOWN_ISSUES,
    AuditInputError,
    AuditReport,
    read_accepted,
    read_pins,
    run_audit,
)

log = logging.getLogger(__name__)


def render_text(report: AuditReport) -> str:
    checked = len(report.findings) - len(report.unchecked)
    lines = [
        f"Dependency audit: {len(report.findings)} pinned packages, {checked} checked, "
        f"{len(report.flaws)} known flaws ({len(report.accepted)} accepted, "
        f"{len(report.unaccepted)} not accepted)."
    ]
    for flaw in report.unaccepted:
        lines.append(
            f"  NOT ACCEPTED {flaw.pin.name}=={flaw.pin.version}: {', '.join(flaw.names)} "
            f"(fixed in: {', '.join(flaw.fixed_in) or 'no release yet'})"
        )
        lines.append(f"    {flaw.advisories[0].details[:300]}")
    for flaw in report.accepted:
        lines.append(f"  accepted {flaw.pin.name}=={flaw.pin.version}: {', '.join(flaw.names)}")
    if report.unchecked:
        names = ", ".join(f"{f.pin.name}=={f.pin.version}" for f in report.unchecked)
        lines.append(f"  not checked ({len(report.unchecked)}): {names}")
    for stale in report.stale_acceptances:
        lines.append(
            f"  note: known_issues.toml accepts {sorted(stale.ids)} for {stale.package}, "
            "which no pinned release has any more; remove the entry"
        )
    if report.unaccepted:
        lines.append(
            "Upgrade the package in pyproject.toml and constraints.txt, or, if it does not "
            "put patients or clinics at risk, add it to security/known_issues.toml with why."
        )
    return "\n".join(lines)


def render_markdown(report: AuditReport, index_url: str) -> str:
    today = dt.date.today().isoformat()
    out = [
        "# Dependency audit",
        "",
        f"Written by `make audit` (`python -m security --report docs/dependency-audit.md`) "
        f"on {today} against `{index_url}`. Do not edit by hand.",
        "",
        f"{len(report.findings)} pinned packages in `constraints.txt`; "
        f"{len(report.findings) - len(report.unchecked)} checked; "
        f"{len(report.accepted)} accepted flaws, {len(report.unaccepted)} not accepted.",
        "",
        "## Known issues",
        "",
    ]
    if not report.flaws:
        out.append("None.")
    for flaw in report.flaws:
        status = "accepted" if flaw.accepted_as else "**NOT ACCEPTED**"
        out.append(
            f"- `{flaw.pin.name}=={flaw.pin.version}`: {', '.join(flaw.names)} ({status}; "
            f"fixed in: {', '.join(flaw.fixed_in) or 'no release yet'})"
        )
        out.append(f"  - What: {flaw.advisories[0].details}")
        if flaw.accepted_as:
            out.append(
                f"  - Why accepted (reviewed {flaw.accepted_as.reviewed}): {flaw.accepted_as.why}"
            )
    out += ["", "## Not checked", ""]
    if not report.unchecked:
        out.append("None.")
    for finding in report.unchecked:
        out.append(f"- `{finding.pin.name}=={finding.pin.version}`: {finding.note}")
    return "\n".join(out) + "\n"


@click.command()
@click.option("--constraints", type=click.Path(path_type=Path), default=CONSTRAINTS)
@click.option("--known-issues", type=click.Path(path_type=Path), default=KNOWN_ISSUES)
@click.option("--index-url", default=DEFAULT_INDEX_URL, show_default=True)
@click.option("--report", type=click.Path(path_type=Path), help="Also write this Markdown file.")
@click.option(
    "--allow-offline", is_flag=True, help="Exit 0 (after a warning) when the index is unreachable."
)
def main(
    constraints: Path, known_issues: Path, index_url: str, report: Path | None, allow_offline: bool
) -> None:
    """Check every pinned package against the advisories the index publishes."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        pins = read_pins(constraints)
        accepted = read_accepted(known_issues)
    except (OSError, AuditInputError) as exc:
        click.echo(f"Dependency audit: {exc}", err=True)
        raise SystemExit(2) from exc
    client = AdvisoryClient(index_url)
    try:
        result = run_audit(pins, client, accepted)
    except IndexUnreachableError as exc:
        message = f"Dependency audit could not run: the index did not answer ({exc})."
        if allow_offline:
            click.echo(f"WARNING: {message} Run `make audit` where the index is reachable.")
            return
        click.echo(message, err=True)
        raise SystemExit(3) from exc
    finally:
        client.close()
    click.echo(render_text(result))
    if report is not None:
        report.write_text(render_markdown(result, index_url), encoding="utf-8")
    if not result.passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
