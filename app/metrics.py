"""Prometheus metrics: one registry per process, served at GET /metrics.

Each `tactful serve` process is a single event loop with its own registry; run several and
let Prometheus scrape each one (a target per process, summed in queries). No multiprocess
mode is needed because no process forks workers.

Add a metric here, next to the others, and update it where the work happens; for work done
in a request transaction, count it with `app.http.routing.after_commit` so a rolled-back
request counts nothing. Labels must stay bounded: route templates, never raw paths or ids.
"""

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

http_requests = Counter(
    "tactful_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
http_duration = Histogram(
    "tactful_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
events = Counter(
    "tactful_events",
    "Ingested events by outcome (applied, duplicate, rejected), counted once committed.",
    ["outcome"],
    registry=REGISTRY,
)
rate_limited = Counter(
    "tactful_rate_limited_requests",
    "Requests refused with 429, by rate-limit bucket.",
    ["bucket"],
    registry=REGISTRY,
)
evaluator_passes = Counter(
    "tactful_evaluator_passes",
    "Periodic evaluation passes, by result (ok, failed).",
    ["result"],
    registry=REGISTRY,
)
evaluator_accounts = Counter(
    "tactful_evaluator_accounts_evaluated",
    "Accounts evaluated by the periodic evaluator.",
    registry=REGISTRY,
)
evaluator_last_pass = Gauge(
    "tactful_evaluator_last_pass_timestamp_seconds",
    "Unix time the last evaluation pass finished successfully (0: none yet).",
    registry=REGISTRY,
)
evaluator_lag = Gauge(
    "tactful_evaluator_lag_seconds",
    "Seconds since this process's evaluator last finished a pass (or started, before the "
    "first); 0 where the evaluator does not run.",
    registry=REGISTRY,
)
dialer_tasks_leased = Counter(
    "tactful_dialer_tasks_leased",
    "Tasks leased to dialers by claims, counted once committed.",
    registry=REGISTRY,
)
dialer_claim_blocks = Counter(
    "tactful_dialer_claim_blocks",
    "Candidate calls a claim refused, by the contact rule that refused them (a call refused "
    "by several rules counts once under each).",
    ["rule"],
    registry=REGISTRY,
)
dialer_outcomes = Counter(
    "tactful_dialer_outcomes",
    "Dialer outcomes recorded, by lease state (live, stale: reported after the lease ended).",
    ["lease"],
    registry=REGISTRY,
)
webhook_deliveries = Counter(
    "tactful_webhook_deliveries",
    "Webhook delivery attempts, by result (delivered, retry, failed).",
    ["result"],
    registry=REGISTRY,
)
webhook_backlog = Gauge(
    "tactful_webhook_backlog",
    "Deliveries pending (not yet delivered nor given up), as counted by this process's "
    "delivery worker after its last round; 0 where the worker does not run.",
    registry=REGISTRY,
)
db_pool_size = Gauge("tactful_db_pool_size", "Connections the pool keeps open.", registry=REGISTRY)
db_pool_checked_out = Gauge(
    "tactful_db_pool_checked_out", "Connections in use by requests or loops.", registry=REGISTRY
)
db_pool_overflow = Gauge(
    "tactful_db_pool_overflow", "Connections open beyond the pool size.", registry=REGISTRY
)

_evaluator_started: float | None = None
_last_pass: float | None = None


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "OTHER"


def evaluator_started() -> None:
    global _evaluator_started
    _evaluator_started = time.time()


def evaluator_pass_finished(evaluated: int) -> None:
    evaluator_passes.labels("ok").inc()
    evaluator_accounts.inc(evaluated)
    global _last_pass
    _last_pass = time.time()
    evaluator_last_pass.set(_last_pass)


def dialer_claimed(leased: int, blocks: dict[str, int]) -> None:
    dialer_tasks_leased.inc(leased)
    for rule, count in blocks.items():
        dialer_claim_blocks.labels(rule).inc(count)


def webhook_round(results: list[str], backlog: int) -> None:
    for result in results:
        webhook_deliveries.labels(result).inc()
    webhook_backlog.set(backlog)


def render(engine: AsyncEngine | None) -> bytes:
    """The text exposition, with the gauges read at scrape time refreshed first."""
    if _evaluator_started is not None:
        evaluator_lag.set(time.time() - (_last_pass or _evaluator_started))
    pool = getattr(engine, "pool", None) if engine is not None else None
    if pool is not None and hasattr(pool, "checkedout"):
        db_pool_size.set(pool.size())
        db_pool_checked_out.set(pool.checkedout())
        db_pool_overflow.set(max(0, pool.overflow()))
    return generate_latest(REGISTRY)
