"""The Gradio chat page: welcome, examples, streamed answers with sources, thumbs up/down."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from bot import prompts
from bot.clinic import Clinic
from bot.errors import InvalidQuestionError, PainbotError
from bot.feedback import FeedbackStore
from bot.transcripts import TranscriptLog
from bot.types import Answer
from web import texts
from web.metrics import Metrics
from web.render import render_answer

logger = logging.getLogger(__name__)

CSS = """
.gradio-container { max-width: 860px !important; margin: auto; }
#pb-disclaimer { background: #fff8e6; border: 1px solid #f0d48a; border-radius: 8px;
  padding: 8px 12px; font-size: 14px; }
.pb-sources { margin: 6px 0 0; padding-left: 22px; font-size: 14px; }
.pb-sources-title { font-weight: 600; margin: 10px 0 0; }
.pb-source details { font-size: 13px; color: #52606d; }
.pb-unverified { color: #8a5a00; font-size: 13px; }
.pb-passage-note { font-style: italic; margin: 4px 0; }
.pb-kind, .pb-reviewed { color: #52606d; font-size: 13px; }
.pb-disclaimer { font-size: 13px; color: #52606d; border-top: 1px solid #e4e7eb;
  padding-top: 6px; margin-top: 8px; }
#pb-examples button { font-size: 14px; }
#pb-about { margin: 0; font-size: 15px; }
#pb-about .pb-links a { margin-right: 16px; display: inline-block; min-height: 24px; }
.pb-heading { margin: 10px 0 2px; }
.pb-points { margin: 0 0 6px; padding-left: 20px; }
.pb-points li { margin: 3px 0; }
.pb-cite { text-decoration: none; font-size: 13px; }
.pb-lead p { margin: 0 0 8px; }
:focus-visible { outline: 3px solid #f0b429 !important; outline-offset: 2px; }
"""


def busy_script() -> str:
    """The <script> that puts our wording in Gradio's queue-full toast."""
    source = (Path(__file__).resolve().parent / "static" / "page-busy.js").read_text("utf-8")
    # json.dumps gives a JS string literal; "</" cannot occur in BUSY, a fixed text.
    source = source.replace('"__PAINBOT_BUSY__"', json.dumps(texts.BUSY))
    return f"<script>{source}</script>"


def about_html(clinic: Clinic) -> str:
    """The always-visible 'not a person' line and, when set, how to reach the clinic."""
    parts = [f'<span id="pb-ai">{escape(prompts.AI_DISCLOSURE)}</span>']
    if line := clinic.contact_line():
        parts.append(f' <span class="pb-contact">{escape(line)}</span>')
    links = []
    if clinic.phone:
        number = "".join(c for c in clinic.phone if c.isdigit() or c == "+")
        call = prompts.CLINIC_CALL_LINK.format(phone=clinic.phone)
        links.append(f'<a href="tel:{escape(number, quote=True)}">{escape(call)}</a>')
    if clinic.url:
        links.append(
            f'<a href="{escape(clinic.url, quote=True)}" target="_blank" '
            f'rel="noopener noreferrer">{escape(prompts.CLINIC_WEBSITE_LINK)}</a>'
        )
    if links:
        parts.append(f' <span class="pb-links">{" ".join(links)}</span>')
    return f'<p id="pb-about">{"".join(parts)}</p>'


def theme() -> gr.themes.Base:
    """Calm colours and system fonts only, so nothing is fetched from the web."""
    return gr.themes.Soft(
        primary_hue="emerald",
        neutral_hue="slate",
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "Menlo", "monospace"],
    ).set(
        # Darker greens than the Soft theme's: white on emerald-500 and emerald-500 on
        # emerald-100 fall below the 4.5:1 contrast WCAG AA asks of text (axe, tests/app).
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_text_color="white",
        block_label_text_color="*primary_800",
        block_title_text_color="*primary_800",
    )


def build_chat(
    bot: Any | None,
    feedback: FeedbackStore,
    load_error: str | None = None,
    transcripts: TranscriptLog | None = None,
    stream_delay_s: float = 0.01,
    clinic: Clinic | None = None,
    metrics: Metrics | None = None,
) -> gr.Blocks:
    """Build the page. ``bot=None`` shows the maintainer message instead of the chat."""
    with gr.Blocks(title="Painbot: ketamine and chronic pain") as page:
        gr.Markdown(f"# {texts.TITLE}")
        gr.Markdown(texts.PAGE_DISCLAIMER, elem_id="pb-disclaimer")
        gr.HTML(about_html(clinic or Clinic()))
        if bot is None:
            gr.Markdown(
                f"**{escape(load_error or texts.STORE_MISSING)}**", elem_id="pb-store-missing"
            )
            return page
        gr.Markdown(texts.WELCOME, elem_id="pb-welcome")
        # assistant message index -> (answer id, verdict, cited source ids)
        meta = gr.State({})
        chat = gr.Chatbot(
            label="Conversation",
            show_label=False,
            height=560,
            elem_id="pb-chat",
            feedback_options=("Like", "Dislike"),
            sanitize_html=True,
            render_markdown=False,
            buttons=["copy"],
        )
        with gr.Row():
            box = gr.Textbox(
                label="Your question",
                placeholder="Type your question and press Enter",
                max_length=2000,
                scale=5,
                elem_id="pb-question",
                autofocus=True,
            )
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="pb-send")
        gr.Markdown("Try one of these:")
        with gr.Row(elem_id="pb-examples"):
            buttons = [gr.Button(q, size="sm", elem_classes=["pb-example"]) for q in texts.EXAMPLES]

        def respond(
            question: str, history: list[dict[str, Any]], meta_map: dict[str, Any]
        ) -> Iterator[tuple[list[dict[str, Any]], str, dict[str, Any]]]:
            question = (question or "").strip()
            if not question or len(question) > 2000:
                raise gr.Error(texts.BAD_QUESTION)
            earlier_raw = meta_map.get("questions", [])
            started = time.perf_counter()
            try:
                answer: Answer = bot.answer(question, earlier_raw[-3:], id=uuid.uuid4().hex[:16])
            except InvalidQuestionError as exc:
                raise gr.Error(str(exc)) from None
            except PainbotError as exc:
                logger.error("answer failed: %s", exc)
                raise gr.Error(texts.UNAVAILABLE) from None
            if metrics is not None:
                metrics.observe_answer("page", answer.verdict.value, time.perf_counter() - started)
            feedback.count_answer(answer.verdict.value)
            if transcripts is not None:
                transcripts.record(answer)
            history = [
                *history,
                {"role": "user", "content": escape(question)},
                {"role": "assistant", "content": ""},
            ]
            meta_map = {
                **meta_map,
                str(len(history) - 1): [
                    answer.id or "",
                    answer.verdict.value,
                    [c.source_id for c in answer.citations],
                ],
                "questions": [*earlier_raw, question],
            }
            # Show the cited points one by one, so a long answer starts reading at once.
            for shown in range(1, sum(len(p.items) for p in answer.parts)):
                history[-1] = {"role": "assistant", "content": render_answer(answer, shown)}
                yield history, "", meta_map
                time.sleep(stream_delay_s)
            history[-1] = {"role": "assistant", "content": render_answer(answer)}
            yield history, "", meta_map

        def rate(data: gr.LikeData, meta_map: dict[str, Any]) -> None:
            index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
            entry = meta_map.get(str(index))
            if not entry or data.liked is None or data.liked == "":
                return
            liked = data.liked is True or str(data.liked).lower() in ("like", "true")
            sources = entry[2] if len(entry) > 2 else []
            feedback.record(entry[0], entry[1], 1 if liked else -1, sources)
            gr.Info(texts.FEEDBACK_THANKS)

        box.submit(respond, [box, chat, meta], [chat, box, meta])
        send.click(respond, [box, chat, meta], [chat, box, meta])
        for button in buttons:
            button.click(lambda q=button.value: q, None, box).then(
                respond, [box, chat, meta], [chat, box, meta]
            )
        chat.like(rate, [meta], None)
    return page
