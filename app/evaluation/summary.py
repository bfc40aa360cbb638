"""Keep each account's episode summary (the `episode_*` columns) equal to its rows.

The summary is what `app.policy.digest.summarize` makes of the episode's interactions (with
their contacts' relationships) and non-reversed payments. It is recomputed from the rows, in
one statement for a set of accounts, by every write that can change it: `reevaluate` (which
every interaction, payment, reversal, contact upsert and episode change is followed by), a
contact's relationship change and the demo loader. The periodic evaluator then reads one
row per account instead of every interaction.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.policy.names import NOT_A_CONVERSATION

_SELF_CALL = "x.channel = 'call' AND x.direction = 'outbound' AND c.relationship = 'self'"
_CONVERSATION = (
    "x.channel = 'call' AND c.relationship = 'self'"
    " AND x.outcome <> ALL(CAST(:not_conversation AS text[]))"
)

# Ties between first reminder calls at one instant go to the smallest outcome, as in the
# policy (COLLATE "C": Python's string order).
_REFRESH = text(
    f"""
    UPDATE accounts AS a SET
        episode_interactions = s.interactions,
        episode_call_attempts = s.call_attempts,
        episode_conversations = s.conversations,
        episode_first_reminder_at = s.first_reminder_at,
        episode_first_reminder_outcome = s.first_reminder_outcome,
        episode_last_self_call_at = s.last_self_call_at,
        episode_last_conversation_at = s.last_conversation_at,
        episode_last_payment_at = s.last_payment_at,
        episode_latest_fact_at = s.latest_fact_at
    FROM (
        SELECT acc.id, i.interactions, i.call_attempts, i.conversations, i.first_reminder_at,
               i.first_reminder_outcome, i.last_self_call_at, i.last_conversation_at,
               p.last_payment_at, GREATEST(i.latest_at, p.last_payment_at) AS latest_fact_at
        FROM accounts AS acc
        CROSS JOIN LATERAL (
            SELECT count(*) AS interactions,
                   count(*) FILTER (WHERE x.channel = 'call' AND x.direction = 'outbound')
                       AS call_attempts,
                   count(*) FILTER (WHERE {_CONVERSATION}) AS conversations,
                   min(x.occurred_at) FILTER (WHERE {_SELF_CALL}) AS first_reminder_at,
                   (array_agg(x.outcome ORDER BY x.occurred_at, x.outcome COLLATE "C")
                       FILTER (WHERE {_SELF_CALL}))[1] AS first_reminder_outcome,
                   max(x.occurred_at) FILTER (WHERE {_SELF_CALL}) AS last_self_call_at,
                   max(x.occurred_at) FILTER (WHERE {_CONVERSATION}) AS last_conversation_at,
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
        WHERE acc.tenant_id = :tenant_id AND acc.id = ANY(CAST(:ids AS bigint[]))
    ) AS s
    WHERE a.tenant_id = :tenant_id AND a.id = s.id
      AND (a.episode_interactions, a.episode_call_attempts, a.episode_conversations,
           a.episode_first_reminder_at, a.episode_first_reminder_outcome,
           a.episode_last_self_call_at, a.episode_last_conversation_at,
           a.episode_last_payment_at, a.episode_latest_fact_at)
          IS DISTINCT FROM
          (s.interactions, s.call_attempts, s.conversations, s.first_reminder_at,
           s.first_reminder_outcome, s.last_self_call_at, s.last_conversation_at,
           s.last_payment_at, s.latest_fact_at)
    """  # noqa: S608 - the interpolated fragments are constants
)


def _params(tenant_id: int, account_ids: list[int]) -> dict[str, object]:
    return {
        "tenant_id": tenant_id,
        "ids": sorted(set(account_ids)),
        "not_conversation": sorted(NOT_A_CONVERSATION),
    }


async def refresh_summaries(session: AsyncSession, tenant_id: int, account_ids: list[int]) -> None:
    """Recompute these accounts' episode summaries from their rows (unchanged ones are not
    rewritten)."""
    if account_ids:
        await session.execute(_REFRESH, _params(tenant_id, account_ids))


async def refresh_summaries_on(
    conn: AsyncConnection, tenant_id: int, account_ids: list[int]
) -> None:
    """`refresh_summaries` on a plain connection (the demo loader's)."""
    if account_ids:
        await conn.execute(_REFRESH, _params(tenant_id, account_ids))
