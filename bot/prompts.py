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

# Crisis replies: shown first and alone, with no retrieval and no citations. Grade 6 or
# below. One for the asker's own danger, one for someone else's emergency.
CRISIS_REPLY = (
    "You may need help right now. If you are in danger, call 911 now. "
    "You can call or text 988 at any time to talk with someone. "
    "988 is the Suicide and Crisis Lifeline in the US. "
    "Outside the US, call your local emergency number. You are not alone."
)

CRISIS_OTHER_REPLY = (
    "If someone is very confused, hard to wake, has chest pain or trouble breathing "
    "after a dose, call 911 now. Stay with them. "
    "Outside the US, call your local emergency number. "
    "If they talk about hurting themselves, you can call or text 988 at any time."
)

# The same two replies in the other languages patients write in. 988 has Spanish-language
# support; for the others it connects to an interpreter. (self reply, someone else's reply)
CRISIS_REPLIES_BY_LANGUAGE: dict[str, tuple[str, str]] = {
    "es": (
        "Puede necesitar ayuda ahora. Si está en peligro, llame al 911 ahora. "
        "Puede llamar o enviar un texto al 988 a cualquier hora (hay ayuda en español). "
        "Fuera de EE. UU., llame a su número local de emergencias. No está solo.",
        "Si alguien está muy confundido, no despierta bien, tiene dolor de pecho o le cuesta "
        "respirar después de una dosis, llame al 911 ahora. Quédese con esa persona. "
        "Fuera de EE. UU., llame a su número local de emergencias. "
        "Si habla de hacerse daño, puede llamar o enviar un texto al 988 a cualquier hora.",
    ),
    "fr": (
        "Vous avez peut-être besoin d'aide maintenant. Si vous êtes en danger, appelez le 911. "
        "Aux États-Unis, vous pouvez appeler ou écrire au 988 à toute heure. "
        "Ailleurs, appelez votre numéro d'urgence local. Vous n'êtes pas seul.",
        "Si quelqu'un est très confus, difficile à réveiller, a mal à la poitrine ou du mal à "
        "respirer après une dose, appelez le 911 maintenant. Restez avec cette personne. "
        "Ailleurs qu'aux États-Unis, appelez votre numéro d'urgence local. "
        "Si elle parle de se faire du mal, appelez ou écrivez au 988.",
    ),
    "pt": (
        "Você pode precisar de ajuda agora. Se estiver em perigo, ligue para o 911 agora. "
        "Nos EUA, você pode ligar ou enviar mensagem para o 988 a qualquer hora. "
        "Fora dos EUA, ligue para o número de emergência local. Você não está sozinho.",
        "Se alguém está muito confuso, difícil de acordar, com dor no peito ou falta de ar "
        "depois de uma dose, ligue para o 911 agora. Fique com a pessoa. "
        "Fora dos EUA, ligue para o número de emergência local. "
        "Se ela falar em se machucar, ligue ou envie mensagem para o 988.",
    ),
    "de": (
        "Sie brauchen vielleicht jetzt Hilfe. Wenn Sie in Gefahr sind, rufen Sie jetzt 911 an. "
        "In den USA können Sie jederzeit 988 anrufen oder eine SMS schicken. "
        "Außerhalb der USA rufen Sie Ihre örtliche Notrufnummer an. Sie sind nicht allein.",
        "Wenn jemand nach einer Dosis sehr verwirrt ist, schwer aufzuwecken ist, Schmerzen in "
        "der Brust hat oder schlecht atmet, rufen Sie jetzt 911 an. Bleiben Sie bei der Person. "
        "Außerhalb der USA rufen Sie Ihre örtliche Notrufnummer an. "
        "Wenn die Person davon spricht, sich etwas anzutun, rufen Sie 988 an.",
    ),
    "it": (
        "Potresti avere bisogno di aiuto adesso. Se sei in pericolo, chiama subito il 911. "
        "Negli Stati Uniti puoi chiamare o scrivere al 988 a qualsiasi ora. "
        "Fuori dagli Stati Uniti, chiama il numero di emergenza locale. Non sei solo.",
        "Se qualcuno è molto confuso, difficile da svegliare, ha dolore al petto o fatica a "
        "respirare dopo una dose, chiama subito il 911. Resta con questa persona. "
        "Fuori dagli Stati Uniti, chiama il numero di emergenza locale. "
        "Se parla di farsi del male, chiama o scrivi al 988.",
    ),
}

PERSONAL_ADVICE_REPLY = (
    "I can't give advice about your own care, such as doses, starting or stopping a drug, "
    "or mixing drugs. Please ask your own doctor or pharmacist. They know your health."
)

PERSONAL_ADVICE_GENERAL_LEAD = "Here is what the sources say in general:"

OFF_TOPIC_REPLY = (
    "I only answer questions about ketamine and psychedelic drugs. "
    "They must be about long-term pain. I use a set list of sources."
)

NOT_COVERED_REPLY = (
    "My sources do not cover this. They are about ketamine and psychedelic medicines for "
    "long-term pain. Please ask your doctor or nurse about it."
)

# For questions in another language: the sources and the answers are in English only.
ENGLISH_ONLY_REPLY = (
    "I can only answer in English. "
    "Solo respondo en inglés. Si está en peligro, llame al 911. "
    "Je réponds en anglais. En cas de danger, appelez les secours. "
    "Só respondo em inglês. Em perigo, ligue para a emergência. "
    "Ich antworte nur auf Englisch. Bei Gefahr rufen Sie den Notruf. "
    "Rispondo solo in inglese. In pericolo, chiami i soccorsi."
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
DISAGREEMENT_NOTE_SHORT = "Note: the author and the checked sources do not fully agree here."
"""The note when the plain lead does not start with the checked finding (at grade 6 or below,
as every fixed text)."""

# --- the clinic (bot/clinic.py fills these from the PAINBOT_CLINIC_* settings) ---------------
AI_DISCLOSURE = "This is a computer program, not a person."
CLINIC_DEFAULT_NAME = "your clinic"
CLINIC_CALL = "You can call {name} at {phone}."
CLINIC_CALL_HOURS = "You can call {name} at {phone}, {hours}."
CLINIC_ALSO_VISIT = "You can also visit {url}."
CLINIC_VISIT = "You can reach {name} at {url}."
CLINIC_CALL_LINK = "Call {phone}"
CLINIC_WEBSITE_LINK = "Clinic website"
# Shown once in the widget, when the clinic turns it on (PAINBOT_WIDGET_NOTICE).
FIRST_USE_NOTICE = (
    "Before you start: this is a computer program, not a person. It gives general "
    "information from a set list of sources. It is not medical advice. Do not use it in an "
    "emergency: call 911, or call or text 988. Please do not type your name or other details "
    "that show who you are."
)
FIRST_USE_ACCEPT = "I understand"
