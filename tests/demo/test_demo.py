"""`tactful demo`: a generated portfolio loaded with COPY, checked by the real constraints.

The loader runs on the test's connection inside its rolled-back transaction (each chunk is a
savepoint there), so every CHECK, FK and unique index is exercised and nothing is left behind.
"""

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker, create_async_engine

from app.cli import main
from app.config import async_database_url, get_settings
from app.contacts.normalise import normalise_contact_value
from app.demo import catalogue
from app.demo.generator import TABLES, Start, generate
from app.demo.loader import LoadResult, load_demo
from app.dialer.generation import sync_tasks
from app.evaluation.runner import tenant_actor
from app.evaluation.service import evaluate_due
from app.models import Account, Debtor, Tenant
from app.tenancy import service as tenancy
from tests.summaries import stored_and_recomputed

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
TODAY = NOW.date()


async def new_tenant(connection: AsyncConnection, name: str) -> int:
    sessions = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    async with sessions() as session:
        tenant = await tenancy.create_tenant(session, name, sandbox=True)
        await session.commit()
        return tenant.id


async def load(
    connection: AsyncConnection, tenant_id: int, accounts: int, seed: int = 7, chunk: int = 200
) -> LoadResult:
    return await load_demo(
        connection, tenant_id, accounts, today=TODAY, now=NOW, seed=seed, chunk_accounts=chunk
    )


async def scalar(connection: AsyncConnection, sql: str, **params: object) -> Any:
    return (await connection.execute(text(sql), params)).scalar_one()


async def rows(connection: AsyncConnection, sql: str, **params: object) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await connection.execute(text(sql), params)]


async def count(connection: AsyncConnection, table: str, tenant_id: int) -> int:
    sql = f"SELECT count(*) FROM {table} WHERE tenant_id = :t"
    return int(await scalar(connection, sql, t=tenant_id))


@pytest.fixture
async def loaded(connection: AsyncConnection) -> tuple[int, LoadResult]:
    tenant_id = await new_tenant(connection, "demo-test")
    return tenant_id, await load(connection, tenant_id, 500)


async def test_counts_match_and_are_plausible(
    connection: AsyncConnection, loaded: tuple[int, LoadResult]
) -> None:
    tenant_id, result = loaded
    assert result.accounts == 500
    for table in TABLES:
        assert await count(connection, table, tenant_id) == result.rows[table], table
    assert 460 <= result.rows["debtors"] < 500  # a few debtors have two accounts
    per_account = await rows(
        connection,
        """SELECT min(n), max(n) FROM (SELECT a.id, count(c.id) AS n FROM accounts a
           LEFT JOIN contacts c ON c.tenant_id = a.tenant_id AND c.account_id = a.id
           WHERE a.tenant_id = :t GROUP BY a.id) s""",
        t=tenant_id,
    )
    assert per_account == [(2, 4)]
    calls = await rows(
        connection,
        """SELECT min(n), max(n) FROM (SELECT a.id, count(i.id) AS n FROM accounts a
           LEFT JOIN interactions i ON i.tenant_id = a.tenant_id AND i.account_id = a.id
           WHERE a.tenant_id = :t GROUP BY a.id) s""",
        t=tenant_id,
    )
    assert calls == [(0, 6)]
    with_payments = await count_accounts_with(connection, "payments", tenant_id)
    with_promises = await count_accounts_with(connection, "promises", tenant_id)
    with_holds = await count_accounts_with(connection, "holds", tenant_id)
    assert 50 <= with_payments <= 160  # ~20 %
    assert 20 <= with_promises <= 100  # ~10 %
    assert 2 <= with_holds <= 40  # a few %
    locales = dict(await rows(connection, "SELECT locale, count(*) FROM debtors GROUP BY 1"))
    assert set(locales) == {"zh-CN", "en-US", "en-GB"}
    jurisdictions = await rows(
        connection,
        """SELECT DISTINCT d.locale, a.jurisdiction, a.currency, d.timezone FROM accounts a
           JOIN debtors d ON d.tenant_id = a.tenant_id AND d.id = a.debtor_id
           WHERE a.tenant_id = :t""",
        t=tenant_id,
    )
    for locale, jurisdiction, currency, zone in jurisdictions:
        expected = {
            "zh-CN": ("cn_nifa", "CNY", {"Asia/Shanghai"}),
            "en-US": ("us_reg_f", "USD", set(catalogue.US_AREA_CODES)),
            "en-GB": ("uk_fca", "GBP", {"Europe/London"}),
        }[str(locale)]
        assert (jurisdiction, currency) == expected[:2]
        assert zone is None or zone in expected[2]


async def count_accounts_with(connection: AsyncConnection, table: str, tenant_id: int) -> int:
    sql = f"SELECT count(DISTINCT account_id) FROM {table} WHERE tenant_id = :t"
    return int(await scalar(connection, sql, t=tenant_id))


async def test_contacts_are_realistic(
    connection: AsyncConnection, loaded: tuple[int, LoadResult]
) -> None:
    tenant_id, _ = loaded
    without_self_phone = await scalar(
        connection,
        """SELECT count(*) FROM accounts a WHERE a.tenant_id = :t AND NOT EXISTS (
             SELECT 1 FROM contacts c WHERE c.tenant_id = a.tenant_id AND c.account_id = a.id
             AND c.relationship = 'self' AND c.kind = 'phone')""",
        t=tenant_id,
    )
    assert without_self_phone == 0
    contacts = await rows(
        connection,
        """SELECT c.kind, c.value, c.relationship, a.jurisdiction FROM contacts c
           JOIN accounts a ON a.tenant_id = c.tenant_id AND a.id = c.account_id
           WHERE c.tenant_id = :t""",
        t=tenant_id,
    )
    relationships = {str(r[2]) for r in contacts}
    assert relationships == {"self", "spouse", "parent", "relative", "friend", "colleague"}
    for kind, value, relationship, jurisdiction in contacts:
        kind, value, jurisdiction = str(kind), str(value), str(jurisdiction)
        assert normalise_contact_value(kind, value, jurisdiction) == value  # already normal
        if kind == "email":
            assert relationship == "self"
            assert value.split("@")[1] in {"example.com", "example.net", "example.org"}
            continue
        number = phonenumbers.parse(value)
        region = {"cn_nifa": "CN", "us_reg_f": "US", "uk_fca": "GB"}[jurisdiction]
        assert phonenumbers.region_code_for_country_code(number.country_code) == region
        if region != "GB":  # 07700 900xxx, kept for fiction, is possible but never "valid"
            assert phonenumbers.is_valid_number(number), value


async def test_every_account_has_the_summary_of_its_rows(
    connection: AsyncConnection, loaded: tuple[int, LoadResult]
) -> None:
    tenant_id, _ = loaded
    ids = await rows(connection, "SELECT id FROM accounts WHERE tenant_id = :t", t=tenant_id)
    with_interactions = 0
    for (account_id,) in ids:
        stored, recomputed = await stored_and_recomputed(connection, tenant_id, account_id)
        assert stored == recomputed
        with_interactions += stored.interactions > 0
    assert with_interactions > len(ids) // 2


async def test_accounts_are_consistent(
    connection: AsyncConnection, loaded: tuple[int, LoadResult]
) -> None:
    tenant_id, _ = loaded
    accounts = await rows(
        connection,
        """SELECT a.status, a.stage, a.due_date, a.stage_entered_at, a.episode_started_at,
                  s.next_evaluation_at, a.principal, a.balance, a.tier, a.tier_reasons,
                  a.episode, a.partner,
                  (SELECT count(*) FROM interactions i
                   WHERE i.tenant_id = a.tenant_id AND i.account_id = a.id) AS calls
           FROM accounts a
           LEFT JOIN evaluation_schedule s ON s.tenant_id = a.tenant_id AND s.account_id = a.id
           WHERE a.tenant_id = :t""",
        t=tenant_id,
    )
    statuses = [a[0] for a in accounts]
    assert statuses.count("delinquent") >= 0.85 * len(accounts)
    lagging = 0
    for (status, stage, due, entered, started, next_at, principal, balance, tier, reasons,
         episode, partner, calls) in accounts:  # fmt: skip
        assert isinstance(due, date) and isinstance(started, datetime)
        assert isinstance(principal, int) and isinstance(balance, int)
        assert 100_000 <= principal <= 5_000_000 and 0 <= balance <= principal
        assert started <= NOW and episode == 1
        assert partner is None or partner in catalogue.PARTNERS
        assert tier in ("A", "B", "C") and isinstance(reasons, list) and reasons
        assert (calls == 0) == (reasons == ["not_yet_contacted"])
        if calls == 0:
            assert tier == "B"
        if status != "delinquent":
            assert stage is None and next_at is None
            assert status != "cured" or balance == 0
            continue
        assert isinstance(entered, datetime) and isinstance(next_at, datetime)
        assert started <= entered <= NOW < next_at <= NOW + timedelta(days=1)
        dpd = (TODAY - due).days
        assert 0 <= dpd <= 200
        natural = sum(1 for threshold in catalogue.STAGE_FROM_DPD if dpd >= threshold) - 1
        index = catalogue.STAGES.index(str(stage))
        assert index in (natural, natural - 1), (dpd, stage)
        lagging += index < natural
    assert lagging > 0


async def test_promises_and_payments_are_consistent(
    connection: AsyncConnection, loaded: tuple[int, LoadResult]
) -> None:
    tenant_id, _ = loaded
    pending_twice = await scalar(
        connection,
        """SELECT count(*) FROM (SELECT account_id FROM promises WHERE tenant_id = :t
           AND status = 'pending' GROUP BY account_id HAVING count(*) > 1) s""",
        t=tenant_id,
    )
    assert pending_twice == 0
    promises = await rows(
        connection,
        """SELECT p.status, p.amount, p.paid, p.due_date, p.created_at, p.resolved_at,
                  i.outcome, i.promise_amount, i.promise_due_date, p.episode
           FROM promises p JOIN interactions i
             ON i.tenant_id = p.tenant_id AND i.id = p.interaction_id
           WHERE p.tenant_id = :t""",
        t=tenant_id,
    )
    assert len(promises) == await count(connection, "promises", tenant_id)
    statuses = set()
    for (status, amount, paid, due, created, resolved, outcome, promised, promised_due,
         episode) in promises:  # fmt: skip
        assert isinstance(due, date) and isinstance(created, datetime)
        assert outcome == "promise_to_pay" and (promised, promised_due) == (amount, due)
        assert episode == 1 and created <= NOW
        statuses.add(status)
        if status == "pending":
            assert paid == 0 and resolved is None
            assert due + timedelta(days=catalogue.GRACE_DAYS) >= TODAY
        else:
            assert isinstance(resolved, datetime) and created <= resolved <= NOW
        assert (status == "kept") == (paid == amount)
        assert status != "broken" or paid == 0
    assert {"pending", "kept", "broken"} <= statuses
    digests = await rows(
        connection,
        """SELECT count(*), count(DISTINCT content_digest), min(length(content_digest)),
                  bool_and(recorded_by = 'demo' AND effects = '[]'::jsonb)
           FROM interactions WHERE tenant_id = :t""",
        t=tenant_id,
    )
    total, distinct, length, plain = digests[0]
    assert total == distinct and length == 32 and plain is True
    paid_over = await scalar(
        connection,
        """SELECT count(*) FROM accounts a WHERE a.tenant_id = :t AND a.balance
           + (SELECT coalesce(sum(amount), 0) FROM payments p
              WHERE p.tenant_id = a.tenant_id AND p.account_id = a.id) > a.principal""",
        t=tenant_id,
    )
    assert paid_over == 0


def test_generation_is_deterministic() -> None:
    start = Start(tenant_id=1, debtor_id=10, account_id=20, ordinal=0)
    first = generate(42, 300, start, TODAY, NOW)
    assert generate(42, 300, start, TODAY, NOW) == first
    other = generate(43, 300, start, TODAY, NOW)
    assert [a[7] for a in other.accounts] != [a[7] for a in first.accounts]
    # Refs follow the ordinal, ids the reserved blocks, and every row has its table's columns.
    assert [a[2] for a in first.accounts][:2] == ["DEMO-00000001", "DEMO-00000002"]
    assert [a[1] for a in first.accounts] == list(range(20, 320))
    for table, table_rows in first.tables().items():
        assert all(len(row) == len(TABLES[table]) for row in table_rows), table
    ids = [row[1] for table in ("contacts", "interactions") for row in first.tables()[table]]
    assert all(isinstance(i, uuid.UUID) and i.version == 8 for i in ids)


async def test_same_seed_same_portfolio_in_another_tenant(connection: AsyncConnection) -> None:
    portfolios = []
    for name in ("demo-a", "demo-b"):
        tenant_id = await new_tenant(connection, name)
        await load(connection, tenant_id, 150, seed=11, chunk=100)
        portfolios.append(
            await rows(
                connection,
                """SELECT a.ref, a.balance, a.due_date, a.stage, d.name, d.customer_ref
                   FROM accounts a JOIN debtors d ON d.tenant_id = a.tenant_id
                   AND d.id = a.debtor_id WHERE a.tenant_id = :t ORDER BY a.ref""",
                t=tenant_id,
            )
        )
    assert portfolios[0] == portfolios[1] and len(portfolios[0]) == 150


async def test_a_second_load_appends(connection: AsyncConnection) -> None:
    tenant_id = await new_tenant(connection, "demo-twice")
    first = await load(connection, tenant_id, 120, chunk=50)
    second = await load(connection, tenant_id, 80, chunk=50)
    assert second.first_ordinal == 120
    assert second.first_account_id >= first.first_account_id + 120
    refs = await rows(
        connection, "SELECT ref FROM accounts WHERE tenant_id = :t ORDER BY ref", t=tenant_id
    )
    assert [r[0] for r in refs] == [f"DEMO-{n:08d}" for n in range(1, 201)]
    # The identity sequences moved past the reserved blocks: ordinary inserts do not collide.
    sessions = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    async with sessions() as session:
        debtor = Debtor(tenant_id=tenant_id, customer_ref="c-x", name="X", locale="en-US")
        session.add(debtor)
        await session.flush()
        account = Account(
            tenant_id=tenant_id, ref="L-X", debtor_id=debtor.id, status="delinquent",
            currency="USD", principal=1000, balance=1000, due_date=TODAY, product="p",
            jurisdiction="us_reg_f",
        )  # fmt: skip
        session.add(account)
        await session.commit()
    top = await scalar(connection, "SELECT max(id) FROM accounts WHERE tenant_id = :t", t=tenant_id)
    assert account.id == top


async def test_copy_runs_inside_the_callers_transaction(connection: AsyncConnection) -> None:
    tenant_id = await new_tenant(connection, "demo-rolled-back")
    savepoint = await connection.begin_nested()
    await load(connection, tenant_id, 60, chunk=25)
    assert await count(connection, "interactions", tenant_id) > 0
    await savepoint.rollback()
    for table in TABLES:
        assert await count(connection, table, tenant_id) == 0, table


async def test_empty_load_does_nothing(connection: AsyncConnection) -> None:
    tenant_id = await new_tenant(connection, "demo-empty")
    result = await load(connection, tenant_id, 0)
    assert result.accounts == 0 and result.total_rows == 0
    assert await count(connection, "accounts", tenant_id) == 0


def sync_rows(database_url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    async def run() -> list[tuple[object, ...]]:
        engine = create_async_engine(async_database_url(database_url))
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            found = [tuple(row) for row in result] if result.returns_rows else []
        await engine.dispose()
        return found

    return asyncio.run(run())


@pytest.fixture
def cli_tenant(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The CLI commits for real: the tenant and its rows are deleted afterwards."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    name = f"demo-cli-{uuid.uuid4().hex[:8]}"
    yield name
    get_settings.cache_clear()
    owned = ("follow_ups", "stage_history", "outbox", "audit_log", "api_keys", "policy_versions")
    for table in (*owned, "idempotency_keys", *reversed(TABLES)):
        sql = f"DELETE FROM {table} WHERE tenant_id = (SELECT id FROM tenants WHERE name = :n)"
        sync_rows(database_url, sql, n=name)
    sync_rows(database_url, "DELETE FROM tenants WHERE name = :n", n=name)


def test_cli_creates_a_sandbox_and_loads(
    cli_tenant: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sync_rows(database_url, "SELECT clock_timestamp()")[0][0]
    assert main(["demo", "--accounts", "60", "--tenant", cli_tenant, "--seed", "5"]) == 0
    assert main(["demo", "--accounts", "40", "--tenant", cli_tenant]) == 0  # appends
    analyzed = sync_rows(
        database_url,
        "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('accounts', 'contacts', "
        "'interactions') AND last_analyze >= :before",
        before=before,
    )
    assert analyzed == [(3,)]  # fresh statistics for what was just loaded
    out = capsys.readouterr().out
    assert "loaded 60 accounts" in out and "loaded 40 accounts" in out and "accounts/s" in out
    found = sync_rows(
        database_url,
        """SELECT t.sandbox, count(a.id) FROM tenants t JOIN accounts a ON a.tenant_id = t.id
           WHERE t.name = :n GROUP BY t.sandbox""",
        n=cli_tenant,
    )
    assert found == [(True, 100)]
    with pytest.raises(SystemExit):
        main(["demo", "--accounts", "0", "--tenant", cli_tenant])


def test_cli_refuses_a_live_tenant(cli_tenant: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenant", "create", cli_tenant]) == 0
    assert main(["demo", "--accounts", "10", "--tenant", cli_tenant]) == 2
    assert "live" in capsys.readouterr().err


async def test_the_first_pass_over_demo_accounts_builds_their_whole_queue(
    connection: AsyncConnection, loaded: tuple[int, LoadResult]
) -> None:
    """Demo accounts are loaded unevaluated; the evaluator's first pass computes every one's
    dialer tasks, not only those of the accounts whose tier or stage it changed."""
    tenant_id, _ = loaded
    sessions = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    later = NOW + timedelta(days=1)
    await connection.execute(
        text("UPDATE tenants SET clock_frozen_at = :at WHERE id = :t"),
        {"at": later, "t": tenant_id},
    )
    assert (
        await scalar(
            connection,
            "SELECT count(*) FROM evaluation_schedule WHERE tenant_id = :t "
            "AND evaluated_at IS NOT NULL",
            t=tenant_id,
        )
        == 0
    )
    async with sessions() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        result = await evaluate_due(session, tenant_actor(tenant), batch_size=1000)
        await session.commit()
    assert 0 < result.changed < result.evaluated  # some unchanged accounts among them
    tasks_sql = (
        "SELECT account_id, contact_id, purpose, priority, eligible_at FROM dialer_tasks "
        "WHERE tenant_id = :t AND state = 'ready' ORDER BY 1, 2, 3"
    )
    after_pass = await rows(connection, tasks_sql, t=tenant_id)
    ids = [
        i
        for (i,) in await rows(
            connection, "SELECT id FROM accounts WHERE tenant_id = :t", t=tenant_id
        )
    ]
    async with sessions() as session:
        await sync_tasks(session, tenant_id, tenant.timezone, ids, later)
        await session.commit()
    assert after_pass and await rows(connection, tasks_sql, t=tenant_id) == after_pass
