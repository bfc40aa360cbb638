from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth import Admin, DbSession, Principal, require
from app.http.openapi import READ_ERRORS, WRITE_ERRORS
from app.http.pagination import Cursor, Limit, Page
from app.http.routing import TransactionalRoute
from app.models.enums import Scope
from app.policy.document import PolicyDocument
from app.policy_api import service
from app.policy_api.schemas import PolicyOut, SimulateIn, SimulationOut

router = APIRouter(
    prefix="/v1/policy", tags=["policy"], route_class=TransactionalRoute, responses=READ_ERRORS
)
PolicyReader = Annotated[Principal, Depends(require(Scope.admin, Scope.accounts_read))]


@router.get("", summary="The tenant's current policy version and document")
async def get_policy(principal: PolicyReader, session: DbSession) -> PolicyOut:
    return await service.current(session, principal)


@router.put(
    "",
    responses=WRITE_ERRORS,
    summary="Replace the policy: validated, stored as a new version (never edited in place)",
)
async def put_policy(body: PolicyDocument, principal: Admin, session: DbSession) -> PolicyOut:
    return await service.replace(session, principal, body)


@router.get("/versions", summary="Every version, newest first")
async def list_versions(
    principal: Admin, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> Page[PolicyOut]:
    return await service.versions(session, principal, cursor, limit)


@router.post(
    "/simulate",
    responses=WRITE_ERRORS,
    summary="Dry-run a candidate policy over the current portfolio; changes nothing",
)
async def simulate(body: SimulateIn, principal: Admin, session: DbSession) -> SimulationOut:
    return await service.simulate(session, principal, body.policy)
