from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class AccountHistory(Base):
    """An account's bucket, tier, stage and partner over [valid_from, valid_to) days in the
    tenant's zone; valid_to is NULL while the interval is open. A new row only when one of
    them changes, so a year of a million accounts stays a few rows per account."""

    __tablename__ = "account_history"
    __table_args__ = (
        Index(
            "uq_account_history_open",
            "tenant_id",
            "account_id",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index(None, "tenant_id", "valid_from"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    bucket: Mapped[str] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(1))
    stage: Mapped[str | None] = mapped_column(Text)
    partner: Mapped[str | None] = mapped_column(String(100))


class HistorySweep(Base):
    """The last day the whole portfolio's history was reconciled (days past due grow daily,
    so buckets change without any event)."""

    __tablename__ = "history_sweeps"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    swept_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PortfolioSummary(Base):
    """Counts and balances by partner, status, tier, stage, bucket and currency, rebuilt
    in the background at most every 30 s; the portfolio report reads it while it is fresh
    (under 60 s old and of today), else counts the accounts live."""

    __tablename__ = "portfolio_summaries"
    __table_args__ = (Index(None, "tenant_id", "partner"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    partner: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(1))
    stage: Mapped[str | None] = mapped_column(Text)
    bucket: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    count: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)


class PortfolioSummaryState(Base):
    __tablename__ = "portfolio_summary_state"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
