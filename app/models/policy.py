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

PROMISE_STATUSES = "'pending', 'kept', 'partially_kept', 'broken', 'cancelled'"
FOLLOW_UP_PURPOSES = "'payment_confirmation', 'collect', 'promise_reminder'"


class PolicyVersion(Base):
    """A tenant's policy document; a change is a new version, never an edit."""

    __tablename__ = "policy_versions"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Promise(Base):
    __tablename__ = "promises"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint(f"status IN ({PROMISE_STATUSES})", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(None, "tenant_id", "account_id", "created_at"),
        Index(
            "uq_promises_one_pending_per_account",
            "tenant_id",
            "account_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[int] = mapped_column(BigInteger)
    episode: Mapped[int] = mapped_column(Integer)
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    amount: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    paid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Payment(Base):
    """A payment toward an account; reversals mark it, never delete it."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "payment_ref"),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(None, "tenant_id", "account_id", "occurred_at"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[int] = mapped_column(BigInteger)
    payment_ref: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source_event_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StageChange(Base):
    """The escalation history: every stage entered or left, and why."""

    __tablename__ = "stage_history"
    __table_args__ = (Index(None, "tenant_id", "account_id", "id"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    episode: Mapped[int] = mapped_column(Integer)
    from_stage: Mapped[str | None] = mapped_column(Text)
    to_stage: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(1))
    trigger: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    policy_version: Mapped[int | None] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxEvent(Base):
    """Domain events written with the change that caused them; webhooks deliver them."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "tenant_id", "account_id"),
        Index("ix_outbox_undispatched", "id", postgresql_where=text("dispatched_at IS NULL")),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set once the webhook dispatcher has turned the event into deliveries (app/webhooks).
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FollowUp(Base):
    """Work the practice asks for (a confirmation call, a prompt collect call); the dialer
    turns it into tasks, and the contact rules decide whether it may happen."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint(f"purpose IN ({FOLLOW_UP_PURPOSES})", name="purpose"),
        CheckConstraint("status IN ('open', 'done', 'lapsed')", name="status"),
        Index(None, "tenant_id", "account_id"),
        Index(
            "uq_follow_ups_one_open_per_purpose",
            "tenant_id",
            "account_id",
            "purpose",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, default="open", server_default="open")
    source: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
