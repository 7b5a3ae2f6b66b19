"""Gradio only: builds the chat page, mounts it with the widget and the JSON API; no logic."""

from __future__ import annotations

import logging
import os
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI

from bot.clinic import Clinic
from bot.config import Settings
from bot.errors import PainbotError
from web.chat_ui import CSS, build_chat, theme
from web.server import create_app

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
logger = logging.getLogger("painbot.app")


def load_bot(settings: Settings) -> tuple[Any | None, str | None]:
    """Load the bot once; on a missing store return the message the page shows instead."""
    try:
        import bot

        return bot.load(settings), None
    except PainbotError as exc:
        logger.error("bot not loaded: %s", exc)
        return None, str(exc)


def build(settings: Settings, bot: Any | None, load_error: str | None = None) -> FastAPI:
    """The whole ASGI app: API + widget from web.server, the Gradio page mounted at /."""
    app = create_app(settings, bot, load_error)
    page = build_chat(
        bot,
        app.state.feedback,
        load_error,
        app.state.transcripts,
        clinic=Clinic.from_settings(settings),
    )
    # Gradio serves one event at a time by default; size the queue for many patients.
    page.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    return gr.mount_gradio_app(
        app,
        page,
        path="/",
        ssr_mode=False,
        root_path=settings.root_path or None,
        theme=theme(),
        css=CSS,
        footer_links=[],
        pwa=False,
        mcp_server=False,
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    bot, error = load_bot(settings)
    uvicorn.run(
        build(settings, bot, error),
        host=settings.host,
        port=settings.port,
        root_path=settings.root_path,
        proxy_headers=settings.behind_proxy,
        forwarded_allow_ips="*" if settings.behind_proxy else None,
    )


if __name__ == "__main__":
    main()
