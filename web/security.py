"""Security headers on every response; /widget may be framed only by the allowed origins."""

from __future__ import annotations

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, allowed_origins: list[str], root_path: str = "") -> None:
        super().__init__(app)
        origins = " ".join(o.rstrip("/") for o in allowed_origins)
        self.widget_ancestors = f"frame-ancestors 'self' {origins}".strip()
        self.widget_path = root_path.rstrip("/") + "/widget"

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        path = request.url.path
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        if path in ("/widget", self.widget_path):
            headers["Content-Security-Policy"] = self.widget_ancestors
        else:
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
            headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
        return response
