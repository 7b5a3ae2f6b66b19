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
from web.chat_ui import CSS, build_chat, busy_script, theme
from web.logs import configure_logging
from web.metrics import prepare_multiprocess_dir
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
        metrics=app.state.metrics,
    )
    # Gradio serves one event at a time by default; size the queue for many patients.
    page.queue(default_concurrency_limit=settings.answer_slots, max_size=settings.queue_size)
    return gr.mount_gradio_app(
        app,
        page,
        path="/",
        ssr_mode=False,
        root_path=settings.root_path or None,
        theme=theme(),
        css=CSS,
        head=busy_script(),
        footer_links=[],
        pwa=False,
        mcp_server=False,
    )


def create() -> FastAPI:
    """The app of one worker process: uvicorn's factory when PAINBOT_WORKERS > 1."""
    settings = Settings()
    configure_logging(settings.json_logs)
    bot, error = load_bot(settings)
    return build(settings, bot, error)


def main() -> None:
    settings = Settings()
    configure_logging(settings.json_logs)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "root_path": settings.root_path,
        "proxy_headers": settings.behind_proxy,
        "forwarded_allow_ips": "*" if settings.behind_proxy else None,
        "log_config": None,  # our handler (plain or JSON) for uvicorn's loggers too
        "timeout_keep_alive": settings.keep_alive_s,
    }
    if settings.workers > 1:
        # Each worker writes its metrics to this folder; /metrics sums them.
        folder = prepare_multiprocess_dir(settings.metrics_dir)
        logger.info("%d workers, metrics in %s", settings.workers, folder)
        # A worker loads the model before it serves: give it longer than uvicorn's 5 s.
        uvicorn.run(
            "app:create",
            factory=True,
            workers=settings.workers,
            timeout_worker_healthcheck=180,
            **options,
        )
        return
    bot, error = load_bot(settings)
    uvicorn.run(build(settings, bot, error), **options)


if __name__ == "__main__":
    main()
