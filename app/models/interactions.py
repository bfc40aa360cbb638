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
    Index,
    LargeBinary,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.models.enums import Channel, Direction, Outcome, ReasonCode, check_in


class Interaction(Base):
    """Something that already happened: always recorded, breaches flagged in `effects`."""

    __tablename__ = "interactions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "contact_id"], ["contacts.tenant_id", "contacts.id"]),
        CheckConstraint(check_in("channel", Channel), name="channel"),
        CheckConstraint(check_in("direction", Direction), name="direction"),
        CheckConstraint(check_in("outcome", Outcome), name="outcome"),
        CheckConstraint(
            f"reason_code IS NULL OR {check_in('reason_code', ReasonCode)}", name="reason_code"
        ),
        CheckConstraint("promise_amount IS NULL OR promise_amount > 0", name="promise_positive"),
        CheckConstraint(
            "cardinality(violations) = 0 OR violations_jurisdiction IS NOT NULL",
            name="violations_jurisdiction",
        ),
        Index(None, "tenant_id", "account_id", "occurred_at"),
        Index(None, "tenant_id", "occurred_at"),
    )

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    account_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    channel: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(String(4000))
    agent: Mapped[str | None] = mapped_column(String(100))
    promise_amount: Mapped[int | None] = mapped_column(BigInteger)
    promise_due_date: Mapped[date | None] = mapped_column(Date)
    callback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    effects: Mapped[list[Any]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    violations: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'::text[]")
    )
    # The pack that judged the call, kept: the account's jurisdiction may change later.
    violations_jurisdiction: Mapped[str | None] = mapped_column(Text)
    content_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
