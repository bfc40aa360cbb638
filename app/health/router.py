from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from app.errors import ServiceUnavailable
from app.http.openapi import Problem

PROBLEM_503: dict[str, Any] = {
    "model": Problem,
    "description": "Not ready",
    "content": {"application/problem+json": {}},
}

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers and its schema is at the migrations' head",
    responses={503: PROBLEM_503},
)
async def readyz(request: Request) -> dict[str, Any]:
    expected = request.app.state.migration_head
    try:
        async with request.app.state.sessionmaker() as session:
            current = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        raise ServiceUnavailable("The database is not reachable or not migrated.") from exc
    if current != expected:
        raise ServiceUnavailable(f"The schema is at {current}, expected {expected}.")
    return {"status": "ready", "migration": current}
