"""The request boundary: one session per request, committed here and nowhere else.

A handler that returns normally is committed before its response leaves (together with the
Idempotency-Key record, when the request carried one); any exception rolls everything back,
so a failed commit can never become a 2xx.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import exc as sa_exc

from app import idempotency
from app.errors import ServiceUnavailable, UnsupportedMediaType

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _required_scopes(dependant: Dependant) -> list[str]:
    found: list[str] = []
    for dep in dependant.dependencies:
        found.extend(getattr(dep.call, "required_scopes", ()))
        found.extend(_required_scopes(dep))
    return found


class TransactionalRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        scopes = _required_scopes(self.dependant)
        if scopes:
            self.openapi_extra = {**(self.openapi_extra or {}), "x-required-scopes": scopes}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def transactional_handler(request: Request) -> Response:
            if takes_body and request.method in _BODY_METHODS:
                content_type = request.headers.get("content-type", "")
                if not _is_json(content_type):
                    raise UnsupportedMediaType("Send the body as application/json.")
            factory = request.app.state.sessionmaker
            try:
                async with factory() as session:
                    request.state.session = session
                    response = await handler(request)
                    if response.status_code < 400:
                        await idempotency.remember(request, session, response)
                        await session.commit()
                    return response
            except (sa_exc.TimeoutError, sa_exc.InterfaceError, ConnectionError, OSError) as exc:
                raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc
            except sa_exc.OperationalError as exc:
                if exc.connection_invalidated or "cannot connect" in str(exc).lower():
                    raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc
                raise
            except sa_exc.DBAPIError as exc:
                if exc.connection_invalidated:
                    raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc
                raise

        return transactional_handler
