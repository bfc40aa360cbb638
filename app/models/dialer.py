import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

TASK_PURPOSES = (
    "'reminder', 'collect', 'relay_request', 'location_inquiry', 'promise_reminder', "
    "'payment_confirmation'"
)
TASK_STATES = "'ready', 'leased', 'done'"


class DialerTask(Base):
    """One piece of work: call this contact of this account for this purpose.

    `ready` rows wait in the claim index until `eligible_at`; a claim turns a row `leased`
    (`lease_id` is the `task_id` the dialer sees); an outcome or a stop turns it `done`. An
    expired lease goes back to `ready`, and its next lease gets a new `lease_id`.
    Tier, stage and partner are copied from the account so a claim filters in the index scan.
    """

    __tablename__ = "dialer_tasks"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint(f"purpose IN ({TASK_PURPOSES})", name="purpose"),
        CheckConstraint(f"state IN ({TASK_STATES})", name="state"),
        CheckConstraint(
            "(state = 'leased') = (lease_id IS NOT NULL AND lease_expires_at IS NOT NULL)",
            name="lease_matches_state",
        ),
        # The claim index: ready rows only, in claim order.
        Index(
            "ix_dialer_tasks_ready",
            "tenant_id",
            text("priority DESC"),
            "eligible_at",
            postgresql_where=text("state = 'ready'"),
        ),
        Index(
            "ix_dialer_tasks_leased",
            "tenant_id",
            "lease_expires_at",
            postgresql_where=text("state = 'leased'"),
        ),
        Index(
            "ix_dialer_tasks_leased_debtor",
            "tenant_id",
            "debtor_id",
            postgresql_where=text("state = 'leased'"),
        ),
        Index(
            "uq_dialer_tasks_one_open_per_purpose",
            "tenant_id",
            "account_id",
            "contact_id",
            "purpose",
            unique=True,
            postgresql_where=text("state <> 'done'"),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigInteger)
    debtor_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    purpose: Mapped[str] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer)
    eligible_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(Text, default="ready", server_default="ready")
    tier: Mapped[str | None] = mapped_column(String(1))
    stage: Mapped[str | None] = mapped_column(Text)
    partner: Mapped[str | None] = mapped_column(String(100))
    # In `reassigned`: the agents who held the account before, who must not get it again.
    excluded_agents: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'::text[]")
    )
    lease_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DialerLease(Base):
    """Every lease ever handed out; its id is the dialer's `task_id`.

    Until it is released unused, a lease counts as an attempt on its contact (policy.md),
    reported or not. Insert-only but for how it ended (`released_at` or `interaction_id`).
    """

    __tablename__ = "dialer_leases"
    __table_args__ = (
        CheckConstraint(
            "released_at IS NULL OR interaction_id IS NULL", name="released_or_reported"
        ),
        Index(None, "tenant_id", "account_id", "leased_at"),
        Index(None, "tenant_id", "task_row_id"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    task_row_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(BigInteger)
    debtor_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    purpose: Mapped[str] = mapped_column(Text)
    key_id: Mapped[int] = mapped_column(BigInteger)
    agent: Mapped[str | None] = mapped_column(String(100))
    leased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    interaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The database's wall clock when the lease was taken and ended, whatever the tenant's
    # clock says: under a frozen sandbox clock they still order leases for an audit.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
