"""Every fixed user-facing text of the bot, as reviewable constants (US grade 8 or below)."""

from __future__ import annotations

# Under every reply. The emergency line is here too because no crisis filter catches every
# wording: unseen indirect messages slipped past it in testing (docs/benchmarks.md).
DISCLAIMER = (
    "This is general health information from the listed sources. It is not medical advice. "
    "Talk with your own doctor or nurse before you change any care. "
    "In an emergency, call 911 or your local emergency number. "
    "You can call or text 988 at any time."
)

CRISIS_REPLY = (
    "You may need help right now. If you are in the US, call 911 for an emergency. "
    "You can call or text 988 to reach the Suicide and Crisis Lifeline at any time. "
    "If you are in another country, call your local emergency number now. "
    "You do not have to go through this alone."
)

PERSONAL_ADVICE_REPLY = (
    "I can't give advice about your own care, such as doses, starting or stopping a drug, "
    "or mixing drugs. Please ask your own doctor or pharmacist. They know your health."
)

PERSONAL_ADVICE_GENERAL_LEAD = "Here is what the sources say in general:"

OFF_TOPIC_REPLY = (
    "I can only answer questions about ketamine and psychedelic drugs for long-term pain. "
    "I use a set list of sources."
)

NOT_COVERED_REPLY = (
    "My sources do not cover this. They are about ketamine and psychedelic medicines for "
    "long-term pain. Please ask your doctor or nurse about it."
)

# For questions in another language: the sources and the answers are in English only.
ENGLISH_ONLY_REPLY = (
    "I can only answer questions in English. "
    "Solo puedo responder preguntas en inglés. Si está en peligro, llame al 911. "
    "Je ne peux répondre qu'en anglais. En cas de danger, appelez les urgences. "
    "Só posso responder em inglês. Em caso de perigo, ligue para a emergência. "
    "Ich kann nur auf Englisch antworten. Bei Gefahr rufen Sie den Notruf. "
    "Posso rispondere solo in inglese. In caso di pericolo, chiami l'emergenza."
)

LEAD_VERIFIED = "What the checked sources say:"
LEAD_ARTICLE = "What the article's author says:"
LEAD_OTHER = "About sources that could not be checked:"
LEAD_NEWS = "What a news report says (not a research finding):"
LEAD_PLAIN = "In plain words (written for this project from the sources below):"
WORDS_TO_KNOW = "Words to know (plain meanings written for this project):"
PART_NOT_COVERED = "My sources do not cover this part of your question: {part}"
# Under a quoted passage: whose words they are (from the record's text_kind).
SUMMARY_PASSAGE_NOTE = (
    "These words come from a short summary of this source written for this project. "
    "They are not the paper's own words."
)
NOTE_PASSAGE_NOTE = (
    "These words come from a note written for this project about this reference. "
    "They are not the paper's own words."
)
ABSTRACT_PASSAGE_NOTE = "These words come from the paper's published abstract."
DISAGREEMENT_NOTE = (
    "Note: the article's author and the checked sources do not fully agree here. "
    "The checked finding is shown first."
)
