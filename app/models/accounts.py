import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.models.enums import (
    AccountStatus,
    ContactKind,
    ContactStatus,
    HoldKind,
    Jurisdiction,
    ReasonCode,
    ReasonVerification,
    Relationship,
    Stage,
    Tier,
    check_in,
)


class Debtor(Base):
    """One person per (tenant, customer_ref); stops apply to all of the debtor's accounts."""

    __tablename__ = "debtors"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_ref"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(35))
    cease_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bankruptcy_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deceased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "ref"),
        ForeignKeyConstraint(["tenant_id", "debtor_id"], ["debtors.tenant_id", "debtors.id"]),
        CheckConstraint(check_in("status", AccountStatus), name="status"),
        CheckConstraint(f"stage IS NULL OR {check_in('stage', Stage)}", name="stage"),
        CheckConstraint(f"tier IS NULL OR {check_in('tier', Tier)}", name="tier"),
        CheckConstraint(check_in("jurisdiction", Jurisdiction), name="jurisdiction"),
        CheckConstraint(
            f"reason_code IS NULL OR {check_in('reason_code', ReasonCode)}", name="reason_code"
        ),
        CheckConstraint(
            f"reason_verification IS NULL OR {check_in('reason_verification', ReasonVerification)}",
            name="reason_verification",
        ),
        CheckConstraint("principal >= 0", name="principal_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_format"),
        Index(None, "tenant_id", "debtor_id"),
        Index(None, "tenant_id", "partner", "id"),
        Index(None, "tenant_id", "status", "due_date"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ref: Mapped[str] = mapped_column(String(100))
    debtor_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    principal: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    product: Mapped[str] = mapped_column(String(100))
    jurisdiction: Mapped[str] = mapped_column(Text)
    partner: Mapped[str | None] = mapped_column(String(100))
    assignee: Mapped[str | None] = mapped_column(String(100))
    tier: Mapped[str | None] = mapped_column(String(1))
    tier_reasons: Mapped[list[Any]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    stage: Mapped[str | None] = mapped_column(Text)
    stage_entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason_code: Mapped[str | None] = mapped_column(Text)
    reason_verification: Mapped[str | None] = mapped_column(Text)
    episode: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    episode_started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    tier_score: Mapped[int | None] = mapped_column(Integer)
    # Order-safe projection (app/events): the (occurred_at, event id) key of the latest
    # balance-setting event and the balance it set, and the key of the latest status event.
    # NULL until first set: the stored balance then counts as of `updated_at`.
    base_balance: Mapped[int | None] = mapped_column(BigInteger)
    balance_as_of_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    balance_as_of_event: Mapped[str | None] = mapped_column(String(100))
    status_as_of_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_as_of_event: Mapped[str | None] = mapped_column(String(100))
    # The episode's summary (app/policy/facts.py EpisodeSummary), recomputed from the
    # interactions and payments by app/evaluation/summary.py whenever they change, so the
    # evaluator reads one row per account.
    episode_interactions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    episode_call_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    episode_conversations: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    episode_first_reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    episode_first_reminder_outcome: Mapped[str | None] = mapped_column(Text)
    episode_last_self_call_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    episode_last_conversation_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    episode_last_payment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    episode_latest_fact_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EvaluationSchedule(Base):
    """When each account is evaluated next, and its last evaluation: a narrow row rewritten by
    every evaluation, so the wide account row is rewritten only when a decision changes it
    (and, with no indexed column changing, in place: a HOT update)."""

    __tablename__ = "evaluation_schedule"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        Index(
            "ix_evaluation_schedule_due",
            "tenant_id",
            "next_evaluation_at",
            postgresql_where=text("next_evaluation_at IS NOT NULL"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    next_evaluation_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    policy_version: Mapped[int | None] = mapped_column(Integer)


class Contact(Base):
    """Identified by (account, kind, normalised value); phones are stored in E.164."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "kind", "value"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint(check_in("kind", ContactKind), name="kind"),
        CheckConstraint(check_in("relationship", Relationship), name="relationship"),
        CheckConstraint(check_in("status", ContactStatus), name="status"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    value: Mapped[str] = mapped_column(String(320))
    relationship: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(Text, default="active", server_default="active")
    timezone: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Hold(Base):
    __tablename__ = "holds"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint(check_in("kind", HoldKind), name="kind"),
        Index(None, "tenant_id", "account_id"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(2000))
    source_event_id: Mapped[str | None] = mapped_column(String(100))  # set by a platform event
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
