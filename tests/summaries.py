"""The account's stored episode summary next to `summarize` over its rows."""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.policy.digest import summarize
from app.policy.facts import EpisodeSummary, InteractionFact, PaymentFact


async def stored_and_recomputed(
    connection: AsyncConnection, tenant_id: int, account_id: int
) -> tuple[EpisodeSummary, EpisodeSummary]:
    """(the account's stored episode summary, `summarize` over its rows)"""
    account = (
        await connection.execute(
            text("SELECT * FROM accounts WHERE tenant_id = :t AND id = :a"),
            {"t": tenant_id, "a": account_id},
        )
    ).one()
    stored = EpisodeSummary(
        account.episode_interactions,
        account.episode_call_attempts,
        account.episode_conversations,
        account.episode_first_reminder_at,
        account.episode_first_reminder_outcome,
        account.episode_last_self_call_at,
        account.episode_last_conversation_at,
        account.episode_last_payment_at,
        account.episode_latest_fact_at,
    )
    where = {"t": account.tenant_id, "a": account.id, "since": account.episode_started_at}
    interactions = [
        InteractionFact(*row)
        for row in await connection.execute(
            text(
                "SELECT i.occurred_at, i.outcome, i.channel, i.direction, c.relationship "
                "FROM interactions AS i JOIN contacts AS c "
                "ON c.tenant_id = i.tenant_id AND c.id = i.contact_id "
                "WHERE i.tenant_id = :t AND i.account_id = :a AND i.occurred_at >= :since"
            ),
            where,
        )
    ]
    payments = [
        PaymentFact(*row)
        for row in await connection.execute(
            text(
                "SELECT occurred_at, amount FROM payments WHERE tenant_id = :t "
                "AND account_id = :a AND reversed_at IS NULL AND occurred_at >= :since"
            ),
            where,
        )
    ]
    return stored, summarize(interactions, payments)
