"""ORM tables. Import every module here so Alembic sees the whole schema."""

from app.models.accounts import Account, Contact, Debtor, EvaluationSchedule, Hold
from app.models.audit import AuditEntry
from app.models.compliance import ContactBlock
from app.models.dialer import DialerLease, DialerTask
from app.models.events import Event, EventType
from app.models.interactions import Interaction
from app.models.policy import FollowUp, OutboxEvent, Payment, PolicyVersion, Promise, StageChange
from app.models.reports import (
    AccountHistory,
    HistorySweep,
    PortfolioSummary,
    PortfolioSummaryState,
)
from app.models.tenancy import ApiKey, IdempotencyRecord, RateLimitBucket, Tenant
from app.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Account",
    "AccountHistory",
    "ApiKey",
    "AuditEntry",
    "Contact",
    "ContactBlock",
    "Debtor",
    "DialerLease",
    "DialerTask",
    "EvaluationSchedule",
    "Event",
    "EventType",
    "FollowUp",
    "HistorySweep",
    "Hold",
    "IdempotencyRecord",
    "Interaction",
    "OutboxEvent",
    "Payment",
    "PolicyVersion",
    "PortfolioSummary",
    "PortfolioSummaryState",
    "Promise",
    "RateLimitBucket",
    "StageChange",
    "Tenant",
    "WebhookDelivery",
    "WebhookEndpoint",
]
