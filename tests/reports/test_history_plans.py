"""The history statements reach account_history only by per-account index probes and row
addresses, whatever the statistics say: filled after its last ANALYZE, the table once got a
nested loop over every open interval for every account (minutes per evaluation batch)."""

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.reports.history import _BY_IDS, _BY_RANGE, _STATEMENTS

ACCOUNTS = 20_000  # enough pages that scanning the table is never the cheap plan


async def _stale_portfolio(connection: AsyncConnection) -> int:
    tenant_id = (
        await connection.execute(
            text(
                "INSERT INTO tenants (name, jurisdiction, timezone) "
                "VALUES ('plans', 'us_reg_f', 'UTC') RETURNING id"
            )
        )
    ).scalar_one()
    await connection.execute(text("ANALYZE account_history"))  # statistics: (nearly) empty
    await connection.execute(
        text(
            """
            INSERT INTO debtors (tenant_id, customer_ref, name, locale)
            SELECT :t, 'c-' || n, 'D ' || n, 'en' FROM generate_series(1, :n) AS n
            """
        ),
        {"t": tenant_id, "n": ACCOUNTS},
    )
    await connection.execute(
        text(
            """
            INSERT INTO accounts (tenant_id, ref, debtor_id, jurisdiction, currency, principal,
                                  balance, due_date, status, stage, tier, product)
            SELECT :t, 'A-' || d.customer_ref, d.id, 'us_reg_f', 'USD', 1000, 1000,
                   DATE '2026-10-01', 'delinquent', 'reminder', 'B', 'loan'
            FROM debtors AS d WHERE d.tenant_id = :t
            """
        ),
        {"t": tenant_id},
    )
    await connection.execute(
        text(
            """
            INSERT INTO account_history (tenant_id, account_id, valid_from, bucket, tier, stage)
            SELECT :t, a.id, DATE '2026-11-01', '31-60', 'B', 'reminder'
            FROM accounts AS a WHERE a.tenant_id = :t
            """
        ),
        {"t": tenant_id},
    )
    return int(tenant_id)


async def test_history_statements_probe_per_account_even_on_stale_statistics(
    connection: AsyncConnection,
) -> None:
    tenant_id = await _stale_portfolio(connection)
    ids = list(
        (
            await connection.execute(
                text("SELECT id FROM accounts WHERE tenant_id = :t ORDER BY id LIMIT 500"),
                {"t": tenant_id},
            )
        ).scalars()
    )
    params = {"tenant_id": tenant_id, "today": date(2026, 12, 2), "ids": ids}
    ranged = {"tenant_id": tenant_id, "today": date(2026, 12, 2), "low": ids[0], "high": ids[-1]}
    for only, bound in ((_BY_IDS, params), (_BY_RANGE, ranged)):
        for statement in _STATEMENTS[only]:
            plan = "\n".join(
                row[0] for row in await connection.execute(text("EXPLAIN " + statement.text), bound)
            )
            lines = [line.strip().removeprefix("->").strip() for line in plan.splitlines()]
            reaching = [
                n
                for n, line in enumerate(lines)
                if " on account_history" in line and not line.startswith("Insert on")
            ]
            assert reaching, plan
            for n in reaching:
                line = lines[n]
                if line.startswith("Index Scan using uq_account_history_open"):
                    assert "account_id = " in lines[n + 1], plan  # a probe per account
                else:
                    assert line.startswith(("Tid Scan", "Update on")), plan
