"""Every failure leaves as application/problem+json; nothing else renders errors."""

import logging
import re
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.errors import (
    PROBLEM_JSON,
    AppError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    field_error,
    invalid,
)
from app.idempotency import IdempotentReplay, replay_response

log = logging.getLogger("tactful.errors")


def problem_response(error: AppError) -> JSONResponse:
    return JSONResponse(
        error.problem(), status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers
    )


def _loc(raw: tuple[Any, ...] | list[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in raw]


def validation_problem(exc: RequestValidationError) -> ValidationFailed:
    errors = []
    for err in exc.errors():
        loc = _loc(err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            loc, msg = ["body"], "malformed JSON"
        elif err.get("type") == "missing":
            msg = "field required"
        errors.append(field_error(loc, msg))
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors[:5])
    return ValidationFailed(f"The request is invalid: {fields}.", errors=errors)


def _route_methods(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "route_methods", None
    )
    if table is None:
        table = [
            (compile_path(context.path)[0], frozenset(context.methods or ()))
            for context in iter_route_contexts(app.routes)
            if context.path
        ]
        app.state.route_methods = table
    return table


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (a route serves one method or two)."""
    path = request.url.path
    methods: set[str] = set()
    for pattern, route_methods in _route_methods(request.app):
        if pattern.match(path):
            methods |= route_methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    async def on_app_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        if exc.status >= 500:
            log.warning("request failed", extra={"status": exc.status, "problem": exc.slug})
        return problem_response(exc)

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        error: AppError
        if exc.status_code == 404:
            error = NotFound(f"No route matches {request.url.path}.")
        elif exc.status_code == 405:
            error = MethodNotAllowed(f"{request.method} is not allowed here.")
            exc.headers = {"Allow": ", ".join(allowed_methods(request))}
        elif exc.status_code == 413:
            error = PayloadTooLarge("The request body is too large.")
        elif exc.status_code == 400:
            # A body that is not UTF-8 is malformed JSON, like any other unparsable body.
            error = invalid(("body",), "malformed JSON")
        else:
            error = AppError(str(exc.detail))
            error.status, error.title = exc.status_code, str(exc.detail)
        error.headers.update(exc.headers or {})
        return problem_response(error)

    async def on_replay(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, IdempotentReplay)
        return replay_response(exc.record)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", extra={"path": request.url.path, "error": type(exc).__name__})
        return problem_response(AppError("An unexpected error occurred; it has been logged."))

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(IdempotentReplay, on_replay)
    app.add_exception_handler(Exception, on_unexpected)
