"""create_app(): the ASGI application, its lifespan, routers and error handlers."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.accounts.router import router as accounts_router
from app.audit.router import router as audit_router
from app.config import Settings, get_settings
from app.contacts.router import router as contacts_router
from app.db.migrations import head_revision
from app.db.session import create_engine, create_sessionmaker
from app.dialer.router import router as dialer_router
from app.eligibility.router import router as eligibility_router
from app.errors import PROBLEM_JSON
from app.escalation.router import router as escalation_router
from app.evaluation.runner import run_forever
from app.events.router import router as events_router
from app.health.router import router as health_router
from app.http import problems
from app.http.middleware import BodyLimitMiddleware, RequestContextMiddleware
from app.interactions.router import router as interactions_router
from app.policy_api.router import router as policy_router
from app.promises.router import router as promises_router
from app.reports import summary as portfolio_summaries
from app.reports.router import router as reports_router
from app.sandbox.router import router as sandbox_router
from app.webhooks import worker as webhook_worker
from app.webhooks.router import router as webhooks_router

log = logging.getLogger("tactful.app")
DESCRIPTION = """Collections case management: firm, step by step, never abusive.

Authenticate with `Authorization: Bearer <api key>`. Errors are `application/problem+json`
(RFC 9457). Every POST and PUT accepts an `Idempotency-Key` header. Lists are
cursor-paginated (`limit` 1..500, `cursor`). No string may contain U+0000 (NUL). Requests
are rate-limited per API key (429 with `Retry-After`; `RateLimit` and `RateLimit-Policy`
headers, IETF draft)."""


def _problem_json_in_openapi(app: FastAPI) -> None:
    """Error responses are documented as application/problem+json only."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if code.isdigit() and int(code) >= 400:
                        media = content.pop("application/json", None)
                        if media is not None or PROBLEM_JSON in content:
                            ref = {"$ref": "#/components/schemas/Problem"}
                            content[PROBLEM_JSON] = (media or {}) | {"schema": ref}
                        response["content"] = content
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """With `sessionmaker` given (tests), the app uses it and owns no engine."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if sessionmaker is not None:
            yield
            return
        if not settings.database_url:
            raise RuntimeError("DATABASE_URL is not set; start the service with `tactful serve`.")
        engine = create_engine(settings.database_url, settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        read_engine = None
        if settings.database_read_url:  # reports read a replica
            read_engine = create_engine(settings.database_read_url, settings, "tactful-read")
            app.state.read_sessionmaker = create_sessionmaker(read_engine)
        stop = asyncio.Event()
        evaluator = None
        if settings.evaluator_enabled:
            evaluator = asyncio.create_task(
                run_forever(app.state.sessionmaker, settings.evaluator_interval_seconds, stop)
            )
        summaries = None
        if settings.report_summaries_enabled:
            summaries = asyncio.create_task(portfolio_summaries.run_forever(app.state.sessionmaker))
        deliveries = None
        if settings.webhooks_enabled:
            deliveries = asyncio.create_task(
                webhook_worker.run_forever(app.state.sessionmaker, settings, stop=stop)
            )
        try:
            yield
        finally:
            # Requests have drained (uvicorn waits for them); the evaluator's pass and the
            # delivery round under way may finish within the grace period. Cut short, a pass
            # is rolled back and a round releases the deliveries it leased.
            stop.set()
            background = [task for task in (evaluator, deliveries) if task is not None]
            late: set[asyncio.Task[None]] = set()
            if background:
                _, late = await asyncio.wait(background, timeout=settings.shutdown_grace_seconds)
            if late:
                log.warning("background work cut short at shutdown", extra={"tasks": len(late)})
            for task in (*late, *([summaries] if summaries is not None else [])):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await engine.dispose()
            if read_engine is not None:
                await read_engine.dispose()
            log.info("shut down")

    app = FastAPI(
        title="Tactful",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.migration_head = head_revision()
    if sessionmaker is not None:
        app.state.sessionmaker = sessionmaker
    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Retry-After", "RateLimit", "RateLimit-Policy"],
        )
    app.add_middleware(RequestContextMiddleware)
    _problem_json_in_openapi(app)
    for router in (
        health_router,
        accounts_router,
        contacts_router,
        interactions_router,
        audit_router,
        escalation_router,
        eligibility_router,
        events_router,
        promises_router,
        policy_router,
        sandbox_router,
        dialer_router,
        reports_router,
        webhooks_router,
    ):
        app.include_router(router)
    return app
