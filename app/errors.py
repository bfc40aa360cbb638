"""One error family, rendered as application/problem+json (RFC 9457)."""

from collections.abc import Sequence
from typing import Any

PROBLEM_JSON = "application/problem+json"

Loc = Sequence[str | int]


class AppError(Exception):
    status: int = 500
    title: str = "Internal Server Error"
    slug: str = "internal-error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:tactful:problem:{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(AppError):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(AppError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "A valid API key is required.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(AppError):
    status, title, slug = 404, "Not Found", "not-found"


class MethodNotAllowed(AppError):
    status, title, slug = 405, "Method Not Allowed", "method-not-allowed"


class NotAcceptable(AppError):
    status, title, slug = 406, "Not Acceptable", "not-acceptable"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(AppError):
    status, title, slug = 413, "Content Too Large", "payload-too-large"


class UnsupportedMediaType(AppError):
    status, title, slug = 415, "Unsupported Media Type", "unsupported-media-type"


class ValidationFailed(AppError):
    status, title, slug = 422, "Unprocessable Content", "validation-error"


class TooManyRequests(AppError):
    status, title, slug = 429, "Too Many Requests", "rate-limited"


class ServiceUnavailable(AppError):
    status, title, slug = 503, "Service Unavailable", "service-unavailable"

    def __init__(self, detail: str, *, retry_after: int = 2) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def field_error(loc: Loc, msg: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg}


def invalid(loc: Loc, msg: str) -> ValidationFailed:
    """A 422 naming one field, e.g. invalid(("body", "contact_id"), "unknown contact")."""
    return ValidationFailed(
        f"{'.'.join(str(p) for p in loc)}: {msg}", errors=[field_error(loc, msg)]
    )
