"""ORM tables. Import every module here so Alembic sees the whole schema."""

from app.models.accounts import Account, Contact, Debtor, Hold
from app.models.audit import AuditEntry
from app.models.compliance import ContactBlock
from app.models.events import Event, EventType
from app.models.interactions import Interaction
from app.models.policy import FollowUp, OutboxEvent, Payment, PolicyVersion, Promise, StageChange
from app.models.tenancy import ApiKey, IdempotencyRecord, RateLimitBucket, Tenant

__all__ = [
    "Account",
    "ApiKey",
    "AuditEntry",
    "Contact",
    "ContactBlock",
    "Debtor",
    "Event",
    "EventType",
    "FollowUp",
    "Hold",
    "IdempotencyRecord",
    "Interaction",
    "OutboxEvent",
    "Payment",
    "PolicyVersion",
    "Promise",
    "RateLimitBucket",
    "StageChange",
    "Tenant",
]
