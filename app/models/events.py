"""Events from loan platforms, kept as received: the source the account projection follows."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.models.enums import check_in


class EventType(StrEnum):
    account_delinquent = "account.delinquent"
    payment_received = "payment.received"
    payment_reversed = "payment.reversed"
    balance_adjusted = "balance.adjusted"
    account_cured = "account.cured"
    account_closed = "account.closed"
    account_charged_off = "account.charged_off"
    dispute_opened = "dispute.opened"
    dispute_resolved = "dispute.resolved"
    debtor_bankruptcy = "debtor.bankruptcy"
    debtor_deceased = "debtor.deceased"
    hardship_declared = "hardship.declared"
    contact_upserted = "contact.upserted"


STATUS_EVENTS = (
    "type IN ('account.delinquent', 'account.cured', 'account.closed', 'account.charged_off')"
)


class Event(Base):
    """One applied event per (tenant, id); rejected events are never stored. The digest of
    the event's canonical JSON tells a resend (same content) from a conflict."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(check_in("type", EventType), name="type"),
        # The dispute hold follows the latest dispute event of the account.
        Index(
            "ix_events_disputes",
            "tenant_id",
            "account_ref",
            "occurred_at",
            "id",
            postgresql_where=text("type IN ('dispute.opened', 'dispute.resolved')"),
        ),
        # The episode counts the account's status events in (occurred_at, id) order.
        Index(
            "ix_events_statuses",
            "tenant_id",
            "account_ref",
            "occurred_at",
            "id",
            postgresql_where=text(STATUS_EVENTS),
        ),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(Text)
    account_ref: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    content_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
