"""Security headers on every response; /widget may be framed only by the allowed origins."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SecurityHeaders:
    """Plain ASGI middleware (Starlette's BaseHTTPMiddleware runs each request through an
    extra task and stream, which costs a busy server more than the headers do)."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str], root_path: str = "") -> None:
        self.app = app
        origins = " ".join(o.rstrip("/") for o in allowed_origins)
        self.widget_ancestors = f"frame-ancestors 'self' {origins}".strip()
        self.widget_path = root_path.rstrip("/") + "/widget"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        full_path = str(scope.get("root_path", "")) + path
        is_widget = bool({path, full_path} & {"/widget", self.widget_path})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
                if is_widget:
                    headers["Content-Security-Policy"] = self.widget_ancestors
                else:
                    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                    headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
            await send(message)

        await self.app(scope, receive, send_with_headers)
