"""tactful serve | migrate | evaluate | deliver | demo | tenant create | key create | key revoke"""

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app import logs
from app.clock import TenantClock
from app.config import Settings, get_settings
from app.db.migrations import upgrade
from app.db.resolve import Database, database
from app.db.session import create_engine, create_sessionmaker
from app.memory import tune_garbage_collection
from app.models import Tenant
from app.models.enums import Jurisdiction
from app.tenancy import service as tenancy

if TYPE_CHECKING:
    from fastapi import FastAPI

T = TypeVar("T")
log = logging.getLogger("tactful.cli")
DEMO_TENANT = "demo"


def _in_transaction(
    settings: Settings, url: str, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    async def run() -> T:
        engine = create_engine(url, settings)
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _bootstrap_demo(settings: Settings, db: Database) -> None:
    async def work(session: AsyncSession) -> tenancy.IssuedKey | None:
        if await tenancy.tenant_count(session) > 0:
            return None
        await tenancy.create_tenant(session, DEMO_TENANT, sandbox=True)
        return await tenancy.create_key(session, DEMO_TENANT, tenancy.ALL_SCOPES)

    issued = _in_transaction(settings, db.url, work)
    if issued is None:
        print(
            "Using the existing data in .data/ (the demo key was shown on first start;",
            file=sys.stderr,
        )
        print("make another with: tactful key create --tenant demo --scopes ...).", file=sys.stderr)
        return
    print(
        "\nCreated tenant 'demo' (sandbox). Its API key, shown only this once:\n", file=sys.stderr
    )
    print(f"    {issued.key}\n", file=sys.stderr)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    with database(settings) as db:
        upgrade(db.url)
        if db.embedded and settings.bootstrap_demo:
            _bootstrap_demo(settings, db)
        host, port = args.host or settings.host, args.port or settings.port
        print(f"Tactful on http://{host}:{port}  (API docs: /docs)", file=sys.stderr)
        grace = int(settings.shutdown_grace_seconds)
        if args.workers > 1:
            # Each worker process builds its app from the environment (`worker_app`); the
            # supervisor forwards SIGTERM to them and each drains as a single process does.
            os.environ["DATABASE_URL"] = db.url
            if not db.embedded:  # nothing to stop on exit: become the small supervisor
                supervisor = [sys.executable, "-m", "app.supervisor", "--host", host]
                supervisor += ["--port", str(port), "--workers", str(args.workers)]
                sys.stderr.flush()
                os.execv(sys.executable, [*supervisor, "--grace", str(grace)])  # noqa: S606
            uvicorn.run(
                "app.cli:worker_app",
                factory=True,
                workers=args.workers,
                host=host,
                port=port,
                log_config=None,
                timeout_graceful_shutdown=grace,
            )
            return 0
        app = create_app(settings.model_copy(update={"database_url": db.url}))
        tune_garbage_collection()
        # On SIGTERM uvicorn stops accepting, drains requests and background work, then
        # raises the signal again; this handler makes that a normal exit (0).
        signal.signal(signal.SIGTERM, lambda *_: None)
        uvicorn.run(app, host=host, port=port, log_config=None, timeout_graceful_shutdown=grace)
    return 0


def worker_app() -> "FastAPI":
    """The app of one `tactful serve --workers N` process (settings from the environment)."""
    from app.main import create_app

    settings = get_settings()
    logs.configure(settings.log_level)
    app = create_app(settings)
    tune_garbage_collection()
    return app


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    with database(settings) as db:
        upgrade(db.url)
    print("migrated to head", file=sys.stderr)
    return 0


def cmd_tenant_create(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        upgrade(db.url)
        tenant = _in_transaction(
            settings,
            db.url,
            lambda s: tenancy.create_tenant(
                s,
                args.name,
                sandbox=args.sandbox,
                jurisdiction=args.jurisdiction,
                timezone=args.timezone,
            ),
        )
    kind = "sandbox" if tenant.sandbox else "live"
    print(f"created {kind} tenant {tenant.name} ({tenant.jurisdiction}, {tenant.timezone})")
    return 0


def cmd_key_create(settings: Settings, args: argparse.Namespace) -> int:
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    with database(settings) as db:
        upgrade(db.url)
        issued = _in_transaction(
            settings, db.url, lambda s: tenancy.create_key(s, args.tenant, scopes, args.partner)
        )
    partner = f", partner {issued.partner}" if issued.partner else ""
    print(f"key {issued.prefix} for {issued.tenant}: {','.join(issued.scopes)}{partner}")
    print("Shown once; store it now:")
    print(issued.key)
    return 0


def cmd_key_revoke(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as db:
        upgrade(db.url)
        revoked = _in_transaction(settings, db.url, lambda s: tenancy.revoke_key(s, args.prefix))
    if not revoked:
        print(f"no live key with prefix {args.prefix}", file=sys.stderr)
        return 1
    print(f"revoked key {args.prefix}")
    return 0


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from app.evaluation.processes import evaluate_tenants_in_processes, tenant_ids
    from app.evaluation.runner import Totals, evaluate_all

    async def run(url: str) -> Totals:
        engine = create_engine(url, settings)
        try:
            return await evaluate_all(create_sessionmaker(engine))
        finally:
            await engine.dispose()

    with database(settings) as db:
        upgrade(db.url)
        totals = Totals()
        if args.processes > 1:
            ids = asyncio.run(tenant_ids(db.url, settings))
            totals += evaluate_tenants_in_processes(db.url, settings, ids, args.processes)
        totals += asyncio.run(run(db.url))  # what is still due, and the idempotency purge
    print(f"evaluated {totals.evaluated} accounts, {totals.changed} changed")
    return 0


async def _until_sigterm(work: Awaitable[T], stop: asyncio.Event, grace: float) -> T | None:
    """Await `work`; SIGTERM sets `stop` (the work ends after its round under way) and, if that
    takes longer than `grace` seconds, cancels it (a cancelled round hands back its leases).
    None when it was cancelled."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            await asyncio.wait({task}, timeout=grace)
    finally:  # also on Ctrl-C, which cancels this coroutine
        stopped.cancel()
        loop.remove_signal_handler(signal.SIGTERM)
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    return None if task.cancelled() else task.result()


def cmd_deliver(settings: Settings, args: argparse.Namespace) -> int:
    from app.webhooks import worker

    async def run(url: str) -> None:
        engine = create_engine(url, settings)
        sessionmaker = create_sessionmaker(engine)
        stop = asyncio.Event()
        grace = settings.shutdown_grace_seconds
        try:
            if not args.once:
                await _until_sigterm(
                    worker.run_forever(sessionmaker, settings, stop=stop), stop, grace
                )
                return
            total = await _until_sigterm(worker.drain(sessionmaker, settings, stop), stop, grace)
            if total is not None:
                print(f"attempted {total} webhook deliveries")
        finally:
            await engine.dispose()

    with database(settings) as db:
        upgrade(db.url)
        asyncio.run(run(db.url))
    return 0


async def _demo_tenant(session: AsyncSession, name: str) -> Tenant:
    tenant = await tenancy.tenant_by_name(session, name)
    if tenant is None:
        return await tenancy.create_tenant(session, name, sandbox=True)
    if not tenant.sandbox:
        raise tenancy.TenancyError(f"tenant {name!r} is live; demo data goes only to sandboxes")
    return tenant


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.demo.loader import LoadResult, analyze_loaded, load_demo

    def progress(result: LoadResult) -> None:
        print(
            f"  {result.accounts:,}/{args.accounts:,} accounts "
            f"({result.accounts_per_second:,.0f}/s)",
            file=sys.stderr,
        )

    async def run(url: str, tenant: Tenant) -> LoadResult:
        clock = TenantClock.of(tenant)
        engine = create_engine(url, settings)
        try:
            async with engine.connect() as conn:
                loaded = await load_demo(
                    conn,
                    tenant.id,
                    args.accounts,
                    today=clock.today(),
                    now=clock.now(),
                    seed=args.seed,
                    progress=progress,
                )
                await analyze_loaded(conn)
                return loaded
        finally:
            await engine.dispose()

    with database(settings) as db:
        upgrade(db.url)
        tenant = _in_transaction(settings, db.url, lambda s: _demo_tenant(s, args.tenant))
        result = asyncio.run(run(db.url, tenant))
    print(
        f"loaded {result.accounts:,} accounts ({result.total_rows:,} rows) into sandbox tenant "
        f"{tenant.name} in {result.seconds:.1f} s: {result.accounts_per_second:,.0f} accounts/s"
    )
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="tactful", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, then serve HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=_positive, default=1, help="serve from this many processes"
    )
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser("migrate", help="apply migrations").set_defaults(handler=cmd_migrate)
    evaluate = commands.add_parser(
        "evaluate", help="one evaluation pass over due accounts (for cron)"
    )
    evaluate.add_argument(
        "--processes", type=_positive, default=1, help="evaluate in this many processes"
    )
    evaluate.set_defaults(handler=cmd_evaluate)
    deliver = commands.add_parser("deliver", help="run the webhook delivery worker")
    deliver.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    deliver.set_defaults(handler=cmd_deliver)

    demo = commands.add_parser(
        "demo", help="load a generated demo portfolio into a sandbox tenant (COPY, fast)"
    )
    demo.add_argument("--accounts", type=_positive, required=True)
    demo.add_argument("--tenant", default=DEMO_TENANT, help="created as a sandbox if missing")
    demo.add_argument("--seed", type=int, default=1, help="same seed, same portfolio")
    demo.set_defaults(handler=cmd_demo)

    tenant = commands.add_parser("tenant").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", help="create a tenant")
    create.add_argument("name")
    create.add_argument("--sandbox", action="store_true")
    create.add_argument(
        "--jurisdiction", default="us_reg_f", choices=[j.value for j in Jurisdiction]
    )
    create.add_argument("--timezone", default="UTC")
    create.set_defaults(handler=cmd_tenant_create)

    key = commands.add_parser("key").add_subparsers(dest="action", required=True)
    key_create = key.add_parser("create", help="issue an API key (printed once)")
    key_create.add_argument("--tenant", required=True)
    key_create.add_argument(
        "--scopes", required=True, help="comma-separated, e.g. accounts:read,dialer"
    )
    key_create.add_argument("--partner")
    key_create.set_defaults(handler=cmd_key_create)
    key_revoke = key.add_parser("revoke", help="revoke a key by its prefix")
    key_revoke.add_argument("prefix")
    key_revoke.set_defaults(handler=cmd_key_revoke)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = get_settings()
    logs.configure(settings.log_level)
    tune_garbage_collection()
    try:
        code: int = args.handler(settings, args)
    except tenancy.TenancyError as exc:
        print(f"tactful: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
