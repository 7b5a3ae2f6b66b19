"""The clinic's contact details: the line that tells patients how to reach a person."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bot import prompts
from bot.config import Settings
from bot.types import Answer, Verdict

REFERRING_VERDICTS = (Verdict.NOT_COVERED, Verdict.PERSONAL_ADVICE)
"""Replies that send the patient to a person get the clinic's contact line."""


@dataclass(frozen=True)
class Clinic:
    """Who runs this assistant and how patients reach a person there (all optional)."""

    name: str = ""
    phone: str = ""
    url: str = ""
    hours: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Clinic:
        return cls(
            name=settings.clinic_name.strip(),
            phone=settings.clinic_phone.strip(),
            url=settings.clinic_url.strip(),
            hours=settings.clinic_hours.strip(),
        )

    def contact_line(self) -> str:
        """'You can call <clinic> at <phone>, <hours>.'; empty when there is no phone or URL."""
        name = self.name or prompts.CLINIC_DEFAULT_NAME
        if self.phone:
            template = prompts.CLINIC_CALL_HOURS if self.hours else prompts.CLINIC_CALL
            line = template.format(name=name, phone=self.phone, hours=self.hours)
            if self.url:
                line += " " + prompts.CLINIC_ALSO_VISIT.format(url=self.url)
            return line
        if self.url:
            return prompts.CLINIC_VISIT.format(name=name, url=self.url)
        return ""

    def to_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "contact": self.contact_line(),
            "call_link": prompts.CLINIC_CALL_LINK.format(phone=self.phone) if self.phone else "",
            "website_link": prompts.CLINIC_WEBSITE_LINK if self.url else "",
        }


def with_contact(answer: Answer, clinic: Clinic) -> Answer:
    """The answer with the clinic's contact line after the reply that sends the patient on.

    A personal-advice decline gets it right after the decline (before any general sources);
    a not-covered reply at its end. Other verdicts, and a clinic without a phone or URL, are
    returned unchanged."""
    line = clinic.contact_line()
    if not line or answer.verdict not in REFERRING_VERDICTS:
        return answer
    decline = prompts.PERSONAL_ADVICE_REPLY
    if answer.verdict is Verdict.PERSONAL_ADVICE and answer.text.startswith(decline):
        return dataclasses.replace(
            answer,
            text=answer.text.replace(decline, f"{decline}\n\n{line}", 1),
            lead=answer.lead.replace(decline, f"{decline}\n\n{line}", 1),
        )
    return dataclasses.replace(answer, text=f"{answer.text}\n\n{line}")
