"""The request boundary: one session per request, committed here and nowhere else.

A handler that returns normally is committed before its response leaves (together with the
Idempotency-Key record, when the request carried one); any exception rolls everything back,
so a failed commit can never become a 2xx.
"""

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from app import idempotency
from app.db import faults
from app.errors import AppError, Conflict, ServiceUnavailable, UnsupportedMediaType, invalid
from app.idempotency import IdempotentReplay

_BODY_METHODS = {"POST", "PUT", "PATCH"}
log = logging.getLogger("tactful.errors")


def after_commit(request: Request, callback: Callable[[], None]) -> None:
    """Run `callback` once this request's transaction has committed (e.g. to count metrics)."""
    callbacks: list[Callable[[], None]] = getattr(request.state, "after_commit", [])
    callbacks.append(callback)
    request.state.after_commit = callbacks


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _required_scopes(dependant: Dependant) -> list[str]:
    found: list[str] = []
    for dep in dependant.dependencies:
        found.extend(getattr(dep.call, "required_scopes", ()))
        found.extend(_required_scopes(dep))
    return found


def _as_problem(exc: Exception) -> AppError:
    """A failure below the handler as a problem: 503 when the database cannot serve (the
    client retries after Retry-After), 409 for a lost race, else a 500 without details."""
    if faults.pool_exhausted(exc):
        return ServiceUnavailable(
            "All database connections are busy; retry shortly.", retry_after=1
        )
    if faults.sqlstate(exc) == faults.STATEMENT_TIMEOUT:
        return ServiceUnavailable("The request took too long and was cancelled; retry later.")
    if faults.database_unavailable(exc):
        return ServiceUnavailable("The database is unavailable; retry shortly.")
    if isinstance(exc, sa_exc.IntegrityError):
        # A concurrent request won a race on a unique key; the client may retry.
        return Conflict("The request conflicts with a concurrent change; retry it.")
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    log.error("unhandled error", extra={"error": type(cause).__name__})
    return AppError("An unexpected error occurred; it has been logged.")


class TransactionalRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        # A scope dependency reached along several paths is one requirement.
        scopes = list(dict.fromkeys(_required_scopes(self.dependant)))
        if scopes:
            self.openapi_extra = {**(self.openapi_extra or {}), "x-required-scopes": scopes}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def transactional_handler(request: Request) -> Response:
            if "\x00" in request.url.path or "%00" in request.url.query:
                raise invalid(("path",), "NUL characters are not allowed")
            if takes_body and request.method in _BODY_METHODS:
                content_type = request.headers.get("content-type", "")
                if not _is_json(content_type):
                    raise UnsupportedMediaType("Send the body as application/json.")
                if b"\\u0000" in await request.body():
                    raise invalid(("body",), "NUL characters (\\u0000) are not allowed")
            factory = request.app.state.sessionmaker
            try:
                async with factory() as session:
                    request.state.session = session
                    response = await handler(request)
                    if response.status_code < 400:
                        await idempotency.remember(request, session, response)
                        await session.commit()
                        for callback in getattr(request.state, "after_commit", ()):
                            callback()
                    return response
            except (AppError, HTTPException, RequestValidationError, IdempotentReplay):
                raise
            except Exception as exc:
                # Raised here, the error still passes the request-id middleware on its way out.
                raise _as_problem(exc) from exc

        return transactional_handler
