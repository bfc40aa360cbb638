"""Reports: periods in the tenant's zone, the repository's rows turned into report bodies."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.errors import invalid
from app.reports.history import BUCKETS
from app.reports.repository import ReportRepository
from app.reports.schemas import (
    ComplianceReport,
    ComplianceRow,
    ContactRow,
    ContactsReport,
    PortfolioReport,
    PortfolioRow,
    PromiseRow,
    PromisesReport,
    RollRatesReport,
    RollRow,
    StatusTotal,
)
from app.reports.summary import fresh_rows

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    start: date
    end: date
    zone: str

    @classmethod
    def of(cls, principal: Principal, start: date | None, end: date | None) -> "ReportPeriod":
        """Both days inclusive; `to` defaults to today, `from` to 30 days before `to`."""
        end = end or principal.clock.today()
        start = start or end - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if end < start:
            raise invalid(("query", "to"), "must not be before `from`")
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise invalid(("query", "to"), f"the period may span at most {MAX_PERIOD_DAYS} days")
        return cls(start, end, principal.clock.timezone)

    def instants(self) -> tuple[datetime, datetime]:
        """[start of `from`, start of the day after `to`) in the tenant's zone."""
        zone = ZoneInfo(self.zone)
        return (
            datetime.combine(self.start, time(), zone),
            datetime.combine(self.end + timedelta(days=1), time(), zone),
        )

    def fields(self) -> dict[str, date]:
        return {"from": self.start, "to": self.end}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _repository(session: AsyncSession, principal: Principal) -> ReportRepository:
    return ReportRepository(session, principal.tenant_id, principal.partner)


async def portfolio(session: AsyncSession, principal: Principal) -> PortfolioReport:
    """From the maintained summary while fresh (it may lag writes by up to 60 s), else live."""
    today = principal.clock.today()
    summary = await fresh_rows(session, principal.tenant_id, principal.partner, today)
    if summary is None:
        repo = _repository(session, principal)
        rows, totals = await repo.portfolio(today), await repo.status_totals()
        as_of = principal.clock.now()
    else:
        as_of, grouped = summary
        rows = [row for row in grouped if row["status"] == "delinquent"]
        by_status: dict[tuple[str, str], list[int]] = {}
        for row in grouped:
            total = by_status.setdefault((row["status"], row["currency"]), [0, 0])
            total[0] += row["count"]
            total[1] += row["balance"]
        totals = [
            {"status": status, "currency": currency, "count": count, "balance": balance}
            for (status, currency), (count, balance) in sorted(by_status.items())
        ]
    return PortfolioReport(
        as_of=as_of,
        totals_by_status=[StatusTotal(**row) for row in totals],
        rows=sorted(
            (PortfolioRow(**row) for row in rows),
            key=lambda r: (r.tier or "", r.stage or "", BUCKETS.index(r.bucket), r.currency),
        ),
    )


async def promises(
    session: AsyncSession, principal: Principal, period: ReportPeriod
) -> PromisesReport:
    rows = await _repository(session, principal).promises(*period.instants())
    out = []
    for row in rows:
        resolved = row["kept"] + row["partially_kept"] + row["broken"]
        out.append(PromiseRow(**row, kept_rate=_ratio(row["kept"], resolved)))
    return PromisesReport.model_validate({**period.fields(), "rows": out})


async def roll_rates(
    session: AsyncSession, principal: Principal, period: ReportPeriod
) -> RollRatesReport:
    rows = await _repository(session, principal).roll_rates(period.start, period.end)
    by_origin: dict[str, int] = {}
    for row in rows:
        by_origin[row["from_bucket"]] = by_origin.get(row["from_bucket"], 0) + row["count"]
    out = [
        RollRow(**row, rate=round(row["count"] / by_origin[row["from_bucket"]], 4))
        for row in sorted(rows, key=lambda r: (_order(r["from_bucket"]), _order(r["to_bucket"])))
    ]
    return RollRatesReport.model_validate(
        {**period.fields(), "accounts": sum(by_origin.values()), "rows": out}
    )


def _order(bucket: str) -> int:
    return BUCKETS.index(bucket) if bucket in BUCKETS else len(BUCKETS)


async def contacts(
    session: AsyncSession, principal: Principal, period: ReportPeriod
) -> ContactsReport:
    start, end = period.instants()
    rows = await _repository(session, principal).contacts(start, end, period.zone)
    out = [
        ContactRow(**row, contact_rate=_ratio(row["right_party_contacts"], row["attempts"]))
        for row in rows
    ]
    return ContactsReport.model_validate({**period.fields(), "rows": out})


async def compliance(
    session: AsyncSession, principal: Principal, period: ReportPeriod
) -> ComplianceReport:
    rows = [
        ComplianceRow(**row)
        for row in await _repository(session, principal).compliance(*period.instants())
    ]
    return ComplianceReport.model_validate(
        {
            **period.fields(),
            "blocked_claims": sum(r.count for r in rows if r.kind == "blocked_claim"),
            "violations": sum(r.count for r in rows if r.kind == "violation"),
            "rows": rows,
        }
    )
