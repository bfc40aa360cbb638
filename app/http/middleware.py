"""Request id, access log and metrics (route template, never the query), security and
rate-limit headers, and the body size limit."""

import logging
import time
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.errors import PayloadTooLarge
from app.http.problems import problem_response
from app.logs import request_id_var, tenant_var

log = logging.getLogger("tactful.access")
_MAX_REQUEST_ID = 100
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# The API returns data, never pages: nothing may run, load or frame it, nor be cached.
_API_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
# Swagger UI and ReDoc load scripts and styles; they still may not be framed.
_DOCS_HEADERS = [(b"content-security-policy", b"frame-ancestors 'none'")]
_DOCS_PATHS = ("/docs", "/redoc")


def _extra_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    path: str = scope.get("path", "")
    headers = list(_SECURITY_HEADERS)
    headers += _DOCS_HEADERS if path.startswith(_DOCS_PATHS) else _API_HEADERS
    limits: dict[str, str] = (scope.get("state") or {}).get("rate_limit_headers") or {}
    headers += [(name.lower().encode(), value.encode()) for name, value in limits.items()]
    return headers


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming
            if 0 < len(incoming) <= _MAX_REQUEST_ID and incoming.isprintable()
            else uuid.uuid4().hex
        )
        request_token = request_id_var.set(request_id)
        tenant_token = tenant_var.set(None)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(h for h in _extra_headers(scope) if h[0] not in present)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            state = scope.get("state") or {}
            principal = state.get("principal")
            if principal is not None:
                tenant_var.set(principal.tenant_id)
            template = getattr(route, "path", "unmatched")
            method = metrics.method_label(scope["method"])
            elapsed = time.perf_counter() - started
            metrics.http_requests.labels(method, template, str(status)).inc()
            metrics.http_duration.labels(method, template, str(status)).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": method,
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(request_token)
            tenant_var.reset(tenant_token)


class BodyLimitMiddleware:
    """413 as problem+json for bodies over the limit, declared or streamed."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            response = problem_response(PayloadTooLarge(self._detail()))
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_body_bytes} bytes."
