from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth import ReadSession, ReportsReader
from app.fields import Day
from app.http.openapi import NOT_ACCEPTABLE, READ_ERRORS
from app.http.routing import TransactionalRoute
from app.reports import service
from app.reports.render import negotiate, render
from app.reports.schemas import (
    ComplianceReport,
    ContactsReport,
    PortfolioReport,
    PromisesReport,
    RollRatesReport,
)
from app.reports.service import ReportPeriod

router = APIRouter(
    prefix="/v1/reports",
    tags=["reports"],
    route_class=TransactionalRoute,
    responses={**READ_ERRORS, **NOT_ACCEPTABLE},
)

From = Annotated[
    Day | None,
    Query(alias="from", description="First day (YYYY-MM-DD, tenant's zone); default `to` − 29."),
]
To = Annotated[
    Day | None,
    Query(description="Last day, inclusive; default today. At most 366 days after `from`."),
]


def _period(principal: ReportsReader, from_: From = None, to: To = None) -> ReportPeriod:
    return ReportPeriod.of(principal, from_, to)


Period = Annotated[ReportPeriod, Depends(_period)]
SCOPE = (
    "A partner-bound key counts only accounts placed with its partner (the account's "
    "current `partner`). JSON by default; `Accept: text/csv` returns the `rows` as CSV."
)


def _csv(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": model,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "The report (JSON), or its rows as CSV.",
        }
    }


@router.get(
    "/portfolio",
    summary="Portfolio: counts and balances by tier, stage and days-past-due bucket",
    description=f"""Delinquent accounts now, grouped by tier × stage × bucket × currency.
Days past due = today in the tenant's zone − `due_date` (0 when not yet due). Buckets:
`current` (delinquent but not yet past due), `1-30`, `31-60`, `61-90`, `91-180`, `181+`.
Balances are summed per currency, never across currencies. `totals_by_status` counts every
account (delinquent, cured, closed, charged_off) per currency. {SCOPE}""",
    responses=_csv(PortfolioReport),
)
async def portfolio(request: Request, principal: ReportsReader, session: ReadSession) -> Response:
    fmt = negotiate(request)
    report = await service.portfolio(session, principal)
    return render(report, list(report.rows), fmt)


@router.get(
    "/promises",
    summary="Promises to pay made in the period and what became of them",
    description=f"""Promises created between `from` and `to` (inclusive, tenant's zone), per
currency, by their status now: `kept` (payments reached the amount within the window: due
date + grace), `partially_kept` (some paid, short of the amount), `broken` (nothing paid by
due date + grace), `pending`, `cancelled` (replaced by a newer promise). `kept_rate` = kept /
(kept + partially_kept + broken). {SCOPE}""",
    responses=_csv(PromisesReport),
)
async def promises(
    request: Request, principal: ReportsReader, session: ReadSession, period: Period
) -> Response:
    fmt = negotiate(request)
    report = await service.promises(session, principal, period)
    return render(report, list(report.rows), fmt)


@router.get(
    "/roll-rates",
    summary="Roll rates: movement between buckets from `from` to `to`",
    description=f"""For every account whose bucket is known on both days (from the account
history the evaluator keeps, one validity interval per change), the matrix of its bucket on
`from` (at the end of that day) → its bucket on `to`. Buckets: `current` (not past due, or
cured), `1-30`, `31-60`, `61-90`, `91-180`, `181+`, `closed`, `charged_off`. A roll is a
move to a later bucket; `rate` = count / accounts that were in `from_bucket` on `from`.
{SCOPE}""",
    responses=_csv(RollRatesReport),
)
async def roll_rates(
    request: Request, principal: ReportsReader, session: ReadSession, period: Period
) -> Response:
    fmt = negotiate(request)
    report = await service.roll_rates(session, principal, period)
    return render(report, list(report.rows), fmt)


@router.get(
    "/contacts",
    summary="Contact activity: attempts, right-party contacts, contact rate",
    description=f"""Calls recorded between `from` and `to`, by the account's tier and stage
on the day of the call (tenant's zone), as the account history kept them at the end of that
day (the current ones for a day before the account's history begins). An **attempt** is an
outbound call to any contact, whatever the outcome; a dialer lease counts as an attempt (on
the day it was leased) until it is released unused, so a lease that expired without an
outcome is still an attempt. A **right-party
contact** (conversation) is an outbound call to a `self` contact whose outcome is not
`no_answer`, `busy`, `voicemail`, `wrong_number` or `reached_third_party`;
`contact_rate` = right-party contacts / attempts.
`inbound_conversations` counts inbound calls from the debtor by the same rule. {SCOPE}""",
    responses=_csv(ContactsReport),
)
async def contacts(
    request: Request, principal: ReportsReader, session: ReadSession, period: Period
) -> Response:
    fmt = negotiate(request)
    report = await service.contacts(session, principal, period)
    return render(report, list(report.rows), fmt)


@router.get(
    "/compliance",
    summary="Compliance: claims the contact rules blocked, and flagged violations",
    description=f"""Between `from` and `to`: `blocked_claim` rows count the contacts a dialer
claim would have handed out but a contact rule refused, by jurisdiction pack and rule;
`violation` rows count rule breaches flagged on recorded interactions (an interaction that
already happened is stored and flagged), by rule and by the pack that flagged them (the
account's jurisdiction when the interaction was recorded). {SCOPE}""",
    responses=_csv(ComplianceReport),
)
async def compliance(
    request: Request, principal: ReportsReader, session: ReadSession, period: Period
) -> Response:
    fmt = negotiate(request)
    report = await service.compliance(session, principal, period)
    return render(report, list(report.rows), fmt)
