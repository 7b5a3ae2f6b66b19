"""Audit the pinned dependencies: which advisories affect them, which of those a person accepted.

An advisory fails the audit unless security/known_issues.toml names it (by any of its ids) with
the reason it does not put patients or clinics at risk, so a new advisory stops `make test`
until someone has read it.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from security.advisories import Advisory, AdvisoryClient, Pin, PinFinding

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints.txt"
KNOWN_ISSUES = Path(__file__).resolve().parent / "known_issues.toml"
_PIN_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


class AuditInputError(Exception):
    """constraints.txt or known_issues.toml cannot be read; the message says which line."""


@dataclass(frozen=True)
class AcceptedIssue:
    package: str
    ids: frozenset[str]
    why: str
    reviewed: dt.date


@dataclass(frozen=True)
class Flaw:
    """One flaw in one pinned package, with every advisory that describes it."""

    pin: Pin
    advisories: tuple[Advisory, ...]
    accepted_as: AcceptedIssue | None

    @property
    def names(self) -> list[str]:
        return sorted(set().union(*(advisory.names for advisory in self.advisories)))

    @property
    def fixed_in(self) -> list[str]:
        return sorted({version for advisory in self.advisories for version in advisory.fixed_in})


@dataclass
class AuditReport:
    findings: list[PinFinding]
    flaws: list[Flaw]
    stale_acceptances: list[AcceptedIssue] = field(default_factory=list)

    @property
    def unaccepted(self) -> list[Flaw]:
        return [flaw for flaw in self.flaws if flaw.accepted_as is None]

    @property
    def accepted(self) -> list[Flaw]:
        return [flaw for flaw in self.flaws if flaw.accepted_as is not None]

    @property
    def unchecked(self) -> list[PinFinding]:
        return [finding for finding in self.findings if not finding.checked]

    @property
    def passed(self) -> bool:
        return not self.unaccepted


def normalize(name: str) -> str:
    """PEP 503 name: 'PyYAML', 'pyyaml' and 'py_yaml' are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = CONSTRAINTS) -> list[Pin]:
    pins = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN_LINE.match(line)
        if match is None:
            raise AuditInputError(f"{path}:{number}: expected 'name==version', found {raw!r}")
        pins.append(Pin(normalize(match.group(1)), match.group(2)))
    return pins


def read_accepted(path: Path = KNOWN_ISSUES) -> list[AcceptedIssue]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AuditInputError(f"{path}: {exc}") from exc
    accepted = []
    for index, entry in enumerate(data.get("issue", [])):
        try:
            accepted.append(
                AcceptedIssue(
                    package=normalize(str(entry["package"])),
                    ids=frozenset(str(name) for name in entry["ids"]),
                    why=" ".join(str(entry["why"]).split()),
                    reviewed=entry["reviewed"],
                )
            )
        except (KeyError, TypeError) as exc:
            raise AuditInputError(
                f"{path}: [[issue]] number {index + 1} needs package, ids, why and reviewed"
            ) from exc
    return accepted


def group_flaws(
    finding: PinFinding, accepted: Iterable[AcceptedIssue]
) -> list[tuple[tuple[Advisory, ...], AcceptedIssue | None]]:
    """Merge advisories naming each other (GHSA + PYSEC + CVE); match each to an acceptance."""
    groups: list[list[Advisory]] = []
    for advisory in finding.advisories:
        overlapping = [g for g in groups if any(advisory.names & other.names for other in g)]
        merged = [advisory] + [a for g in overlapping for a in g]
        groups = [g for g in groups if g not in overlapping] + [merged]
    result = []
    for group in groups:
        names = set().union(*(advisory.names for advisory in group))
        match = next(
            (a for a in accepted if a.package == finding.pin.name and a.ids & names),
            None,
        )
        result.append((tuple(sorted(group, key=lambda a: a.id)), match))
    return result


def run_audit(
    pins: list[Pin],
    client: AdvisoryClient,
    accepted: list[AcceptedIssue],
    *,
    workers: int = 8,
) -> AuditReport:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        findings = list(pool.map(client.check, pins))
    flaws = [
        Flaw(finding.pin, advisories, acceptance)
        for finding in findings
        for advisories, acceptance in group_flaws(finding, accepted)
    ]
    used = {id(flaw.accepted_as) for flaw in flaws if flaw.accepted_as is not None}
    stale = [acceptance for acceptance in accepted if id(acceptance) not in used]
    return AuditReport(findings=findings, flaws=flaws, stale_acceptances=stale)
