"""The one ASGI app: JSON API, widget files, security headers, rate limit; Gradio mounted at /."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import AfterValidator, BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import prompts
from bot.clinic import Clinic
from bot.config import Settings
from bot.errors import InvalidQuestionError, PainbotError
from bot.feedback import FeedbackStore
from bot.transcripts import TranscriptLog
from bot.types import Answer
from web import texts
from web.metrics import Metrics, MetricsMiddleware
from web.ratelimit import Busy, ConcurrencyGate, RateLimiter
from web.security import SecurityHeaders

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


class BotLike(Protocol):
    def answer(
        self, question: str, history: Sequence[str] = (), *, id: str | None = None
    ) -> Answer: ...
    def stats(self) -> dict[str, Any]: ...


def _valid_unicode(text: str) -> str:
    # JSON allows lone surrogates ("\ud800"); the tokenizer does not. Pydantic rejects them in
    # plain str fields but not inside lists, so history items are checked here.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("not valid Unicode text") from exc
    return text


HistoryItem = Annotated[str, Field(max_length=2000), AfterValidator(_valid_unicode)]


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000, description="The patient's question.")
    history: list[HistoryItem] = Field(
        default_factory=list, max_length=20, description="Earlier questions, oldest first."
    )
    id: str | None = Field(None, max_length=64, description="Optional id to give the answer.")


class FeedbackRequest(BaseModel):
    answer_id: str = Field(min_length=1, max_length=64)
    verdict: str = Field("answered", max_length=32)
    rating: Literal[1, -1] = Field(description="1 = helpful, -1 = not helpful.")
    sources: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=20, description="Source ids the rated answer cited."
    )


def _error(status: int, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def widget_page(settings: Settings) -> str:
    """widget.html with the clinic's details and the notice setting as an inline JSON block."""
    config = {
        "clinic": Clinic.from_settings(settings).to_json(),
        "ai_disclosure": prompts.AI_DISCLOSURE,
        "notice": prompts.FIRST_USE_NOTICE if settings.widget_notice else "",
        "notice_accept": prompts.FIRST_USE_ACCEPT,
    }
    # Inside <script>, only "<" could end the block early; escape the HTML-special characters.
    data = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e")
    data = data.replace("&", "\\u0026")
    block = f'<script id="pb-config" type="application/json">{data}</script>'
    return (STATIC / "widget.html").read_text(encoding="utf-8").replace("<!--PB-CONFIG-->", block)


def create_app(
    settings: Settings, bot: BotLike | None = None, load_error: str | None = None
) -> FastAPI:
    """Build the API and widget routes. ``bot=None`` means the store is missing: say so."""
    app = FastAPI(title="painbot API")  # root_path is set on uvicorn and Gradio
    limiter = RateLimiter(settings.rate_limit)
    gate = ConcurrencyGate(settings.answer_slots, settings.queue_size)
    feedback = FeedbackStore(settings.feedback_db)
    app.state.bot, app.state.feedback, app.state.gate = bot, feedback, gate
    app.state.load_error = load_error
    metrics = app.state.metrics = Metrics()
    cache = getattr(bot, "answer_cache", None)
    if cache is not None:  # the page and the API ask through the same cache: both counted
        cache.subscribe(metrics.count_cache)
    transcripts = (
        TranscriptLog(settings.transcript_log, settings.transcript_retention_days)
        if settings.transcript_log
        else None
    )
    app.state.transcripts = transcripts

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, f"Invalid request: {where or 'body'}: {first.get('msg', 'bad input')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    def _limited(request: Request) -> JSONResponse | None:
        client = request.client.host if request.client else "unknown"
        wait = limiter.check(client)
        return _error(429, texts.RATE_LIMITED, wait) if wait else None  # counted by the middleware

    @app.post("/api/ask")
    async def ask(request: Request, body: AskRequest) -> Any:
        if (limited := _limited(request)) is not None:
            return limited
        if bot is None:
            return _error(503, load_error or texts.STORE_MISSING, 30)
        started = time.perf_counter()
        try:
            # A question answered before needs no slot among the questions being computed.
            hit = cache.lookup(body.question, body.history, id=body.id) if cache else None
            if hit is not None:
                answer = hit
            else:
                async with gate:
                    started = time.perf_counter()
                    answer = await run_in_threadpool(
                        bot.answer, body.question, body.history, id=body.id
                    )
        except Busy:
            metrics.queue_full.labels("api").inc()
            return _error(503, texts.BUSY, 10)
        except InvalidQuestionError as exc:
            return _error(422, str(exc))
        except PainbotError as exc:
            logger.error("answer failed: %s", exc)
            return _error(503, texts.UNAVAILABLE, 30)
        metrics.observe_answer("api", answer.verdict.value, time.perf_counter() - started)
        request.state.verdict = answer.verdict.value  # the latency histogram's label
        feedback.count_answer(answer.verdict.value)  # in memory; written within a second
        if transcripts is not None:
            await run_in_threadpool(transcripts.record, answer)
        # Plain JSON already: skip FastAPI's encoder walk (about 1 ms for an answer with citations).
        return JSONResponse(answer.to_json())

    @app.get("/api/health")
    async def health() -> Any:
        """The process is alive (200), with what the store holds when it is loaded."""
        if bot is None:
            return {"status": "store missing", "error": load_error or texts.STORE_MISSING}
        try:
            return {"status": "ok", **await run_in_threadpool(bot.stats)}
        except PainbotError as exc:
            return {"status": "store unavailable", "error": str(exc)}

    @app.get("/api/ready")
    async def ready() -> Any:
        """Ready to answer (200): the store is loaded, holds passages and can be searched."""
        if bot is None:
            return _error(503, load_error or texts.STORE_MISSING, 30)
        try:
            stats = await run_in_threadpool(bot.stats)
        except PainbotError as exc:
            logger.error("not ready: %s", exc)
            return _error(503, texts.UNAVAILABLE, 30)
        if not stats.get("chunks"):
            return _error(503, texts.STORE_MISSING, 30)
        return {"status": "ready", "chunks": stats["chunks"]}

    @app.get("/metrics", include_in_schema=False)
    async def metrics_text() -> Response:
        body, content_type = await run_in_threadpool(metrics.exposition)
        return Response(body, media_type=content_type)

    @app.post("/api/feedback")
    async def give_feedback(request: Request, body: FeedbackRequest) -> Any:
        if (limited := _limited(request)) is not None:
            return limited
        await run_in_threadpool(
            feedback.record, body.answer_id, body.verdict, body.rating, body.sources
        )
        return {"ok": True}

    @app.get("/widget.js", include_in_schema=False)
    async def widget_js() -> FileResponse:
        return FileResponse(
            STATIC / "widget.js",
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=300"},
        )

    page = widget_page(settings)

    @app.get("/widget", include_in_schema=False)
    async def widget() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/widget.css", include_in_schema=False)
    async def widget_css() -> FileResponse:
        return FileResponse(STATIC / "widget.css", media_type="text/css")

    app.add_middleware(
        SecurityHeaders, allowed_origins=settings.allowed_origins, root_path=settings.root_path
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, root_path=settings.root_path)
    if settings.behind_proxy:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts="*")
    return app
