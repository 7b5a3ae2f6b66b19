"""The dependency audit: the real pin files, and the client against a local stand-in index."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from stand_in_http import QuietHandler, send, serve

from security.__main__ import main as audit_cli
from security.advisories import AdvisoryClient, IndexUnreachableError, Pin
from security.audit import (
    CONSTRAINTS,
    ROOT,
    AcceptedIssue,
    normalize,
    read_accepted,
    read_pins,
    run_audit,
)

# Shaped like PyPI's JSON API answers (ids and wording from chromadb's real 2026 advisories).
RCE = {
    "id": "GHSA-f4j7-r4q5-qw2c",
    "aliases": ["CVE-2026-45829", "PYSEC-2026-311"],
    "details": "A pre-authentication, code injection vulnerability in version 1.0.0 or later.",
    "fixed_in": [],
    "link": "https://osv.dev/vulnerability/GHSA-f4j7-r4q5-qw2c",
    "withdrawn": None,
}
RCE_PYSEC = {**RCE, "id": "PYSEC-2026-311", "aliases": ["CVE-2026-45829", "GHSA-f4j7-r4q5-qw2c"]}
TENANTS = {
    "id": "GHSA-2wm9-hf6c-p5cr",
    "aliases": ["CVE-2026-45830"],
    "details": "A lack of authorization validation.",
    "fixed_in": ["9.9.9"],
    "link": "https://osv.dev/vulnerability/GHSA-2wm9-hf6c-p5cr",
}
WITHDRAWN = {**TENANTS, "id": "GHSA-xxxx-withdrawn", "aliases": [], "withdrawn": "2026-01-01"}


def page(version: str, *vulnerabilities: dict[str, object]) -> dict[str, object]:
    return {"info": {"version": version}, "vulnerabilities": list(vulnerabilities)}


class StandInIndex:
    """Serves pages by path; a queue of statuses per path is answered first."""

    def __init__(self) -> None:
        self.pages: dict[str, dict[str, object]] = {}
        self.failures: dict[str, list[int]] = {}
        self.requests: list[str] = []


@pytest.fixture
def index() -> Iterator[tuple[StandInIndex, str]]:
    state = StandInIndex()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            queued = state.failures.get(self.path)
            if queued:
                status, body = queued.pop(0), b"{}"
            elif self.path in state.pages:
                status, body = 200, json.dumps(state.pages[self.path]).encode()
            else:
                status, body = 404, b'{"message": "Not Found"}'
            send(self, status, body, {"Content-Type": "application/json"})

    with serve(Handler) as base:
        yield state, f"{base}/pypi"


def client_for(base: str) -> AdvisoryClient:
    return AdvisoryClient(base, timeout_s=5, attempts=3, backoff_s=0)


def accepted(*ids: str, package: str = "chromadb") -> AcceptedIssue:
    import datetime as dt

    return AcceptedIssue(package, frozenset(ids), "server mode only", dt.date(2026, 11, 25))


# --- the project's own pin files ----------------------------------------------------------
def test_constraints_pin_every_direct_dependency_at_the_same_version() -> None:
    pins = {pin.name: pin.version for pin in read_pins(CONSTRAINTS)}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        direct += extra
    for requirement in direct:
        name, _, version = requirement.partition("==")
        assert normalize(name) in pins, f"{name} is missing from constraints.txt"
        if version:
            assert pins[normalize(name)] == version, f"{name}: pyproject {version}"


def test_installed_packages_are_the_pinned_ones() -> None:
    """`make` installs with -c constraints.txt: what the tests run on is what was audited."""
    mismatched = []
    for pin in read_pins(CONSTRAINTS):
        try:
            installed = metadata.version(pin.name)
        except metadata.PackageNotFoundError:
            continue  # e.g. the optional [llm] extra
        if installed.split("+")[0] != pin.version:
            mismatched.append(f"{pin.name} {installed} != {pin.version}")
    assert not mismatched


def test_known_issues_name_pinned_packages_with_reasons() -> None:
    pins = {pin.name for pin in read_pins(CONSTRAINTS)}
    issues = read_accepted()
    assert issues, "the chromadb server advisories are expected to be listed"
    for issue in issues:
        assert issue.package in pins
        assert issue.ids and len(issue.why) > 80


# --- the client and the audit against the stand-in ----------------------------------------
def test_release_page_flaws_are_merged_by_alias_and_fail_unless_accepted(index) -> None:
    state, base = index
    state.pages["/pypi/chromadb/1.5.9/json"] = page("1.5.9", RCE, RCE_PYSEC, TENANTS, WITHDRAWN)
    pins = [Pin("chromadb", "1.5.9")]

    report = run_audit(pins, client_for(base), [])
    assert sorted(len(flaw.advisories) for flaw in report.flaws) == [1, 2]  # withdrawn ignored
    assert not report.passed and len(report.unaccepted) == 2

    report = run_audit(pins, client_for(base), [accepted("CVE-2026-45829")])
    assert [flaw.names for flaw in report.unaccepted] == [["CVE-2026-45830", "GHSA-2wm9-hf6c-p5cr"]]
    assert report.unaccepted[0].fixed_in == ["9.9.9"]

    both = [accepted("PYSEC-2026-311"), accepted("GHSA-2wm9-hf6c-p5cr")]
    assert run_audit(pins, client_for(base), both).passed


def test_project_page_answers_only_for_the_newest_release(index) -> None:
    state, base = index
    state.pages["/pypi/gradio/json"] = page("6.31.0")
    state.pages["/pypi/pillow/json"] = page("13.0.0", TENANTS)
    report = run_audit(
        [Pin("gradio", "6.31.0"), Pin("pillow", "12.3.0"), Pin("nowhere", "1.0")],
        client_for(base),
        [],
    )
    by_name = {finding.pin.name: finding for finding in report.findings}
    assert by_name["gradio"].checked and not by_name["gradio"].advisories
    assert not by_name["pillow"].checked and "13.0.0" in by_name["pillow"].note
    assert not by_name["nowhere"].checked
    # The newest release's flaw is still raised for the older pin.
    assert [flaw.pin.name for flaw in report.unaccepted] == ["pillow"]


def test_stale_acceptances_are_reported(index) -> None:
    state, base = index
    state.pages["/pypi/chromadb/2.0.0/json"] = page("2.0.0")
    report = run_audit([Pin("chromadb", "2.0.0")], client_for(base), [accepted("CVE-2026-45829")])
    assert report.passed and len(report.stale_acceptances) == 1


def test_retries_5xx_and_429_then_gives_up(index) -> None:
    state, base = index
    state.pages["/pypi/h11/0.16.0/json"] = page("0.16.0")
    state.failures["/pypi/h11/0.16.0/json"] = [503, 429]
    assert client_for(base).check(Pin("h11", "0.16.0")).checked

    state.failures["/pypi/h11/0.16.0/json"] = [502, 502, 502]
    with pytest.raises(IndexUnreachableError, match="HTTP 502 after 3 attempts"):
        client_for(base).check(Pin("h11", "0.16.0"))


# --- the command ----------------------------------------------------------------------------
def write_inputs(tmp_path: Path, issues: str = "") -> list[str]:
    (tmp_path / "constraints.txt").write_text("# pinned\nchromadb==1.5.9  # the store\n")
    (tmp_path / "known.toml").write_text(issues)
    return [
        "--constraints",
        str(tmp_path / "constraints.txt"),
        "--known-issues",
        str(tmp_path / "known.toml"),
    ]


ACCEPT_RCE = """
[[issue]]
package = "chromadb"
ids = ["CVE-2026-45829"]
reviewed = 2026-11-25
why = "Only the Chroma HTTP server is affected; the app runs Chroma embedded."
"""


def test_cli_exit_codes_and_report(index, tmp_path: Path) -> None:
    state, base = index
    state.pages["/pypi/chromadb/1.5.9/json"] = page("1.5.9", RCE, RCE_PYSEC)
    runner = CliRunner()

    failing = runner.invoke(audit_cli, [*write_inputs(tmp_path), "--index-url", base])
    assert failing.exit_code == 1
    assert "NOT ACCEPTED chromadb==1.5.9: CVE-2026-45829" in failing.output

    report = tmp_path / "audit.md"
    args = [*write_inputs(tmp_path, ACCEPT_RCE), "--index-url", base, "--report", str(report)]
    passing = runner.invoke(audit_cli, args)
    assert passing.exit_code == 0, passing.output
    text = report.read_text()
    assert "GHSA-f4j7-r4q5-qw2c" in text and "Only the Chroma HTTP server" in text


def test_cli_unreachable_index(tmp_path: Path) -> None:
    runner = CliRunner()
    dead = ["--index-url", "http://127.0.0.1:9/pypi"]
    strict = runner.invoke(audit_cli, [*write_inputs(tmp_path), *dead])
    assert strict.exit_code == 3
    lenient = runner.invoke(audit_cli, [*write_inputs(tmp_path), *dead, "--allow-offline"])
    assert lenient.exit_code == 0 and "WARNING: Dependency audit could not run" in lenient.output


def test_cli_bad_constraints_line(tmp_path: Path) -> None:
    args = write_inputs(tmp_path)
    (tmp_path / "constraints.txt").write_text("chromadb>=1.0\n")
    result = CliRunner().invoke(audit_cli, args)
    assert result.exit_code == 2 and "constraints.txt:1" in result.output
