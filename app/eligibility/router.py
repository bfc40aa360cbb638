from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.accounts.router import AccountRef
from app.auth import DbSession, Principal, require
from app.eligibility import service
from app.eligibility.schemas import EligibilityOut
from app.fields import Instant
from app.http.openapi import READ_ERRORS
from app.http.routing import TransactionalRoute
from app.models.enums import Scope

router = APIRouter(
    prefix="/v1/accounts/{account_ref}/contact-eligibility",
    tags=["eligibility"],
    route_class=TransactionalRoute,
    responses=READ_ERRORS,
)

EligibilityReader = Annotated[Principal, Depends(require(Scope.accounts_read, Scope.dialer))]


@router.get("", summary="Per contact: callable now (or at `at`) or from when, and why")
async def get_contact_eligibility(
    account_ref: AccountRef,
    principal: EligibilityReader,
    session: DbSession,
    at: Annotated[
        Instant | None,
        Query(
            description="The instant to decide for (RFC 3339 with offset), within 30 days "
            "of now; default now (the tenant's clock)."
        ),
    ] = None,
    lease_seconds: Annotated[
        int,
        Query(
            ge=0,
            le=3600,
            description="How long the call may take: the whole lease must "
            "fit the calling window. 0 asks about the instant alone.",
        ),
    ] = 300,
) -> EligibilityOut:
    return await service.read_eligibility(session, principal, account_ref, at, lease_seconds)
