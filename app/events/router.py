from fastapi import APIRouter, Request

from app import metrics
from app.auth import DbSession, EventsWriter
from app.events import service
from app.events.schemas import MAX_EVENTS, EventBatchIn, EventBatchOut
from app.http.openapi import WRITE_ERRORS
from app.http.routing import TransactionalRoute, after_commit

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=TransactionalRoute)

# Events never address an object in the path: an unknown account rejects only its event.
_ERRORS = {code: response for code, response in WRITE_ERRORS.items() if code != 404}
_TYPES = (
    " `data` by type: `account.delinquent` as the body of `PUT /v1/accounts/{ref}` (creates"
    " or refreshes the account); `payment.received` `amount` (> 0), `payment_ref`,"
    " `currency?`; `payment.reversed` `payment_ref`, `reason?`; `balance.adjusted` `balance`,"
    " `due_date`, `reason`; `account.cured`, `account.closed`, `account.charged_off`,"
    " `debtor.bankruptcy`, `debtor.deceased` `reason?`; `dispute.opened`, `dispute.resolved`"
    " `reason` (the dispute hold follows the latest); `hardship.declared` `kind` (`disaster`,"
    " `medical`, `income_loss`, `family_change`, `other`), `until`; `contact.upserted` one"
    " contact as in `POST /v1/accounts/{ref}/contacts`."
)


@router.post(
    "",
    responses=_ERRORS,
    summary=f"Ingest a batch of up to {MAX_EVENTS} loan-platform events",
    description=(
        "Each event is `applied`, a `duplicate` (its id was seen with the same content) or "
        "`rejected` with a problem (bad event, unknown account or payment, or its id seen "
        "with other content); results are in request order and a rejected event is not "
        "stored, so it may be resent. The batch commits as one transaction. State follows "
        "`occurred_at` order (ties by id), not arrival order. More than "
        f"{MAX_EVENTS} events: 413, nothing applied." + _TYPES
    ),
)
async def ingest_events(
    request: Request, body: EventBatchIn, principal: EventsWriter, session: DbSession
) -> EventBatchOut:
    result = await service.ingest(session, principal, body.events)

    def count() -> None:
        metrics.events.labels("applied").inc(result.applied)
        metrics.events.labels("duplicate").inc(result.duplicates)
        metrics.events.labels("rejected").inc(result.rejected)

    after_commit(request, count)
    return result
