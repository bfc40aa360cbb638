"""SQL for keeping the queue current: what a task needs beyond the contact facts, and the
set-based upsert of the wanted tasks."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(slots=True)
class TaskContext:
    """Per account: what the queue row copies, and the practice's open follow-ups."""

    debtor_id: int
    partner: str | None
    due_date: date
    stage_entered_at: datetime | None
    follow_ups: dict[str, datetime] = field(default_factory=dict)  # open: purpose → due at
    promise_reminded: bool = False  # the pending promise's one reminder call was made
    prior_agents: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WantedTask:
    account_id: int
    debtor_id: int
    contact_id: uuid.UUID
    purpose: str
    priority: int
    eligible_at: datetime
    tier: str | None
    stage: str | None
    partner: str | None
    excluded_agents: list[str]


_CONTEXT = text(
    """
    SELECT a.id, a.debtor_id, a.partner, a.due_date, a.stage, a.stage_entered_at, a.assignee
    FROM accounts AS a
    WHERE a.tenant_id = :t AND a.id = ANY(CAST(:ids AS bigint[]))
    """
)
_FOLLOW_UPS = text(
    """
    SELECT account_id, purpose, due_at FROM follow_ups
    WHERE tenant_id = :t AND account_id = ANY(CAST(:ids AS bigint[]))
      AND status = 'open'
    """
)
# A lease for a promise reminder that was not released unused is its one reminder call.
_PENDING_PROMISES = text(
    """
    SELECT p.account_id, EXISTS (
        SELECT 1 FROM dialer_leases AS l
        WHERE l.tenant_id = p.tenant_id AND l.account_id = p.account_id
          AND l.purpose = 'promise_reminder' AND l.leased_at >= p.created_at
          AND l.released_at IS NULL
    ) AS reminded
    FROM promises AS p
    WHERE p.tenant_id = :t AND p.account_id = ANY(CAST(:ids AS bigint[]))
      AND p.status = 'pending'
    """
)
# Who worked an account before it entered its current stage (for `reassigned`).
_PRIOR_AGENTS = text(
    """
    SELECT a.id, array_agg(DISTINCT w.agent) FROM accounts AS a
    JOIN LATERAL (
        SELECT i.agent FROM interactions AS i
        WHERE i.tenant_id = :t AND i.account_id = a.id AND i.agent IS NOT NULL
          AND i.occurred_at < a.stage_entered_at
        UNION ALL
        SELECT l.agent FROM dialer_leases AS l
        WHERE l.tenant_id = :t AND l.account_id = a.id AND l.agent IS NOT NULL
          AND l.leased_at < a.stage_entered_at
        UNION ALL
        SELECT a.assignee WHERE a.assignee IS NOT NULL
    ) AS w ON true
    WHERE a.tenant_id = :t AND a.id = ANY(CAST(:ids AS bigint[]))
    GROUP BY a.id
    """
)
_UPSERT = text(
    """
    INSERT INTO dialer_tasks AS d (
        tenant_id, account_id, debtor_id, contact_id, purpose, priority, eligible_at,
        tier, stage, partner, excluded_agents, updated_at
    )
    SELECT :t, u.account_id, u.debtor_id, u.contact_id, u.purpose, u.priority, u.eligible_at,
           u.tier, u.stage, u.partner, CAST(u.excluded AS text[]), :now
    FROM unnest(
        CAST(:account_ids AS bigint[]), CAST(:debtor_ids AS bigint[]),
        CAST(:contact_ids AS uuid[]), CAST(:purposes AS text[]), CAST(:priorities AS int[]),
        CAST(:eligible AS timestamptz[]), CAST(:tiers AS text[]), CAST(:stages AS text[]),
        CAST(:partners AS text[]), CAST(:excluded AS text[])
    ) AS u(account_id, debtor_id, contact_id, purpose, priority, eligible_at, tier, stage,
           partner, excluded)
    ON CONFLICT (tenant_id, account_id, contact_id, purpose) WHERE state <> 'done'
    DO UPDATE SET
        priority = EXCLUDED.priority,
        eligible_at = CASE WHEN d.state = 'ready' THEN EXCLUDED.eligible_at ELSE d.eligible_at END,
        tier = EXCLUDED.tier, stage = EXCLUDED.stage, partner = EXCLUDED.partner,
        excluded_agents = EXCLUDED.excluded_agents, updated_at = :now
    WHERE (d.priority, d.tier, d.stage, d.partner, d.excluded_agents)
          IS DISTINCT FROM (EXCLUDED.priority, EXCLUDED.tier, EXCLUDED.stage,
                            EXCLUDED.partner, EXCLUDED.excluded_agents)
       OR (d.state = 'ready' AND d.eligible_at IS DISTINCT FROM EXCLUDED.eligible_at)
    """
)
# Ready work no longer wanted (a stop, a cure, a purpose that lapsed) is closed; leased work
# finishes with its outcome or comes back when its lease expires.
_CLOSE_UNWANTED = text(
    """
    UPDATE dialer_tasks AS d SET state = 'done', updated_at = :now
    WHERE d.tenant_id = :t AND d.account_id = ANY(CAST(:ids AS bigint[])) AND d.state = 'ready'
      AND (d.account_id, d.contact_id, d.purpose) NOT IN (
          SELECT * FROM unnest(
              CAST(:account_ids AS bigint[]), CAST(:contact_ids AS uuid[]),
              CAST(:purposes AS text[])
          )
      )
    """
)
_SHIFT_PRIORITIES = text(
    """
    UPDATE dialer_tasks AS d SET priority = d.priority + u.shift, updated_at = :now
    FROM unnest(CAST(:ids AS bigint[]), CAST(:shifts AS int[])) AS u(account_id, shift)
    WHERE d.tenant_id = :t AND d.account_id = u.account_id AND d.state <> 'done'
    """
)
_FINISH_FOLLOW_UP = text(
    """
    UPDATE follow_ups SET status = 'done'
    WHERE tenant_id = :t AND account_id = :account_id AND purpose = :purpose AND status = 'open'
    """
)


def _text_array(values: list[str]) -> str:
    """A text[] literal (arrays of arrays do not pass through unnest)."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


class GenerationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def contexts(self, tenant_id: int, account_ids: list[int]) -> dict[int, TaskContext]:
        params = {"t": tenant_id, "ids": account_ids}
        found: dict[int, TaskContext] = {}
        reassigned = []
        for row in await self.session.execute(_CONTEXT, params):
            found[row.id] = TaskContext(
                row.debtor_id, row.partner, row.due_date, row.stage_entered_at
            )
            if row.stage == "reassigned":
                reassigned.append(row.id)
        for account_id, purpose, due_at in await self.session.execute(_FOLLOW_UPS, params):
            found[account_id].follow_ups[purpose] = due_at
        for account_id, reminded in await self.session.execute(_PENDING_PROMISES, params):
            found[account_id].promise_reminded = reminded
        if reassigned:
            rows = await self.session.execute(_PRIOR_AGENTS, {"t": tenant_id, "ids": reassigned})
            for account_id, agents in rows:
                found[account_id].prior_agents = sorted(a for a in agents if a)
        return found

    async def replace_tasks(
        self, tenant_id: int, account_ids: list[int], wanted: list[WantedTask], now: datetime
    ) -> None:
        columns: dict[str, list[Any]] = defaultdict(list)
        for task in wanted:
            columns["account_ids"].append(task.account_id)
            columns["debtor_ids"].append(task.debtor_id)
            columns["contact_ids"].append(task.contact_id)
            columns["purposes"].append(task.purpose)
            columns["priorities"].append(task.priority)
            columns["eligible"].append(task.eligible_at)
            columns["tiers"].append(task.tier)
            columns["stages"].append(task.stage)
            columns["partners"].append(task.partner)
            columns["excluded"].append(_text_array(task.excluded_agents))
        keys = ("account_ids", "contact_ids", "purposes")
        await self.session.execute(
            _CLOSE_UNWANTED,
            {"t": tenant_id, "ids": account_ids, "now": now, **{k: columns[k] for k in keys}},
        )
        if wanted:
            await self.session.execute(_UPSERT, {"t": tenant_id, "now": now, **columns})

    async def shift_priorities(self, tenant_id: int, shifts: dict[int, int], now: datetime) -> None:
        """Add `shifts[account id]` to the priority of each of that account's open tasks."""
        if shifts:
            ids = sorted(shifts)
            params = {"t": tenant_id, "now": now, "ids": ids, "shifts": [shifts[i] for i in ids]}
            await self.session.execute(_SHIFT_PRIORITIES, params)

    async def finish_follow_up(self, tenant_id: int, account_id: int, purpose: str) -> None:
        await self.session.execute(
            _FINISH_FOLLOW_UP, {"t": tenant_id, "account_id": account_id, "purpose": purpose}
        )
