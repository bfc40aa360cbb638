from fastapi import APIRouter

from app.auth import Admin, DbSession
from app.http.openapi import READ_ERRORS, WRITE_ERRORS
from app.http.routing import TransactionalRoute
from app.sandbox import service
from app.sandbox.schemas import ClockIn, ClockOut, EvaluationOut

router = APIRouter(
    prefix="/v1/sandbox", tags=["sandbox"], route_class=TransactionalRoute, responses=READ_ERRORS
)


@router.get("/clock", summary="The sandbox tenant's clock")
async def get_clock(principal: Admin, session: DbSession) -> ClockOut:
    return await service.read_clock(session, principal)


@router.put(
    "/clock",
    responses=WRITE_ERRORS,
    summary="Freeze a sandbox tenant's now (first at any instant, then only forward; 404 if live)",
)
async def set_clock(body: ClockIn, principal: Admin, session: DbSession) -> ClockOut:
    return await service.set_clock(session, principal, body)


@router.post(
    "/evaluate",
    responses=WRITE_ERRORS,
    summary="Run the periodic evaluation for this sandbox tenant now",
)
async def evaluate(principal: Admin, session: DbSession) -> EvaluationOut:
    return await service.evaluate_now(session, principal)
