import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class ContactBlock(Base):
    """A contact the work queue would have handed out but a contact rule refused at claim time.

    Insert-only (no counter rows for concurrent claimers to queue on); the compliance report
    counts them by rule and jurisdiction over a period.
    """

    __tablename__ = "contact_blocks"
    __table_args__ = (Index(None, "tenant_id", "blocked_at"),)

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    blocked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    account_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    jurisdiction: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
