from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from app import metrics
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


@router.get(
    "/metrics",
    summary="Prometheus metrics of this process (text exposition format)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def get_metrics(request: Request) -> Response:
    body = metrics.render(getattr(request.app.state, "engine", None))
    return Response(body, media_type=metrics.CONTENT_TYPE)
