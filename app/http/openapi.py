"""OpenAPI pieces shared by every router: the problem+json error responses."""

from typing import Any

from pydantic import BaseModel, Field

from app.errors import PROBLEM_JSON


class FieldError(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. ["body", "debtor", "name"].')
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_JSON: {}}}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _problem("Missing or invalid API key"),
    403: _problem("The key lacks the required scope"),
    404: _problem("No such object for this tenant (or partner)"),
    422: _problem("Invalid parameters; `errors` names each field"),
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    409: _problem("Conflicts with the current state, or the Idempotency-Key is in use"),
    413: _problem("Body too large"),
    415: _problem("Body is not application/json"),
    422: _problem("Invalid body or parameters; `errors` names each field"),
}
NOT_ACCEPTABLE: dict[int | str, dict[str, Any]] = {
    406: _problem("The Accept header names no format this endpoint serves"),
}
