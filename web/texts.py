"""Fixed user-facing texts of the chat page and the widget (plain language, grade 8)."""

TITLE = "Ask about ketamine and long-term pain"
WELCOME = (
    "Hi. I answer questions about ketamine and psychedelic drugs for long-term pain. "
    "I only use one doctor's article and the studies it cites. I show you the exact "
    "parts I used. I cannot give you advice about your own care. I cannot tell you what "
    "dose to take. I cannot help in an emergency. If you are in danger or thinking about "
    "hurting yourself, call or text 988 (in the US) or your local emergency number now."
)
EXAMPLES = [
    "What is ketamine and how can it help chronic pain?",
    "What are the side effects of ketamine?",
    "How long does pain relief from ketamine last?",
    "Are drugs like psilocybin being studied for pain?",
    "Who should not get ketamine treatment?",
]
PAGE_DISCLAIMER = (
    "This chatbot gives general education only. It is not medical advice. "
    "Talk with your own doctor before you make any change to your care."
)
BUSY = "Many people are asking right now. Please try again in a minute."
RATE_LIMITED = "You are sending questions very fast. Please wait a minute and try again."
STORE_MISSING = (
    "The assistant is not set up yet. A maintainer needs to run `make run` "
    "(or `python -m ingest`) to build its library of sources."
)
UNAVAILABLE = "The assistant is not available right now. Please try again later."
BAD_QUESTION = "Please type a question. It can be up to 2,000 characters long."
FEEDBACK_THANKS = "Thank you for your feedback."
