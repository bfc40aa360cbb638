"""evaluation summary: each account's episode summary (app/evaluation/summary.py); status
events indexed for counting episodes in occurred_at order

Revision ID: c3a10f5e0001
Revises: 78deee08f44d
Create Date: 2026-11-28 19:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3a10f5e0001"
down_revision: str | None = "78deee08f44d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = ("episode_interactions", "episode_call_attempts", "episode_conversations")
_INSTANTS = (
    "episode_first_reminder_at",
    "episode_last_self_call_at",
    "episode_last_conversation_at",
    "episode_last_payment_at",
    "episode_latest_fact_at",
)

_STATUS_EVENTS = (
    "type IN ('account.delinquent', 'account.cured', 'account.closed', 'account.charged_off')"
)

# The accounts that exist already get their summary from their rows (the same definition as
# app/evaluation/summary.py, frozen here as of this revision).
_BACKFILL = """
    UPDATE accounts AS a SET
        episode_interactions = i.interactions,
        episode_call_attempts = i.call_attempts,
        episode_conversations = i.conversations,
        episode_first_reminder_at = i.first_reminder_at,
        episode_first_reminder_outcome = i.first_reminder_outcome,
        episode_last_self_call_at = i.last_self_call_at,
        episode_last_conversation_at = i.last_conversation_at,
        episode_last_payment_at = p.last_payment_at,
        episode_latest_fact_at = GREATEST(i.latest_at, p.last_payment_at)
    FROM accounts AS acc
    CROSS JOIN LATERAL (
        SELECT count(*) AS interactions,
               count(*) FILTER (WHERE x.channel = 'call' AND x.direction = 'outbound')
                   AS call_attempts,
               count(*) FILTER (
                   WHERE x.channel = 'call' AND c.relationship = 'self'
                   AND x.outcome NOT IN ('no_answer', 'busy', 'voicemail', 'wrong_number',
                                         'reached_third_party')
               ) AS conversations,
               min(x.occurred_at) FILTER (
                   WHERE x.channel = 'call' AND x.direction = 'outbound'
                   AND c.relationship = 'self'
               ) AS first_reminder_at,
               (array_agg(x.outcome ORDER BY x.occurred_at, x.outcome COLLATE "C")
                   FILTER (
                   WHERE x.channel = 'call' AND x.direction = 'outbound'
                   AND c.relationship = 'self'
               ))[1] AS first_reminder_outcome,
               max(x.occurred_at) FILTER (
                   WHERE x.channel = 'call' AND x.direction = 'outbound'
                   AND c.relationship = 'self'
               ) AS last_self_call_at,
               max(x.occurred_at) FILTER (
                   WHERE x.channel = 'call' AND c.relationship = 'self'
                   AND x.outcome NOT IN ('no_answer', 'busy', 'voicemail', 'wrong_number',
                                         'reached_third_party')
               ) AS last_conversation_at,
               max(x.occurred_at) AS latest_at
        FROM interactions AS x
        JOIN contacts AS c ON c.tenant_id = x.tenant_id AND c.id = x.contact_id
        WHERE x.tenant_id = acc.tenant_id AND x.account_id = acc.id
          AND x.occurred_at >= acc.episode_started_at
    ) AS i
    CROSS JOIN LATERAL (
        SELECT max(y.occurred_at) AS last_payment_at
        FROM payments AS y
        WHERE y.tenant_id = acc.tenant_id AND y.account_id = acc.id
          AND y.reversed_at IS NULL AND y.occurred_at >= acc.episode_started_at
    ) AS p
    WHERE a.tenant_id = acc.tenant_id AND a.id = acc.id
"""


def upgrade() -> None:
    for name in _COUNTS:
        op.add_column("accounts", sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.add_column("accounts", sa.Column("episode_first_reminder_outcome", sa.Text(), nullable=True))
    for name in _INSTANTS:
        op.add_column("accounts", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.execute(_BACKFILL)
    op.create_index(
        "ix_events_statuses",
        "events",
        ["tenant_id", "account_ref", "occurred_at", "id"],
        unique=False,
        postgresql_where=sa.text(_STATUS_EVENTS),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_events_statuses", table_name="events", postgresql_where=sa.text(_STATUS_EVENTS)
    )
    for name in (*_COUNTS, "episode_first_reminder_outcome", *_INSTANTS):
        op.drop_column("accounts", name)
