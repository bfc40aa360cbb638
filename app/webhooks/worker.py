"""The delivery worker: outbox → deliveries → signed POSTs, at least once.

Runs as a background task of `tactful serve` and as `tactful deliver`. Each round commits
its fan-out and its lease before any request leaves, and records the outcomes after, so a
crash between the two only means the leased deliveries are sent again when the lease ends.
Retries follow the Standard Webhooks schedule; 429 waits at least its Retry-After; 410
disables the endpoint. Signature headers carry wall-clock time, also for sandbox tenants.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook

from app import metrics
from app.clock import system_now
from app.config import Settings
from app.webhooks import repository
from app.webhooks.repository import Leased, Outcome
from app.webhooks.urls import RefusedUrl, check_url

log = logging.getLogger("tactful.webhooks")

# After the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then the delivery fails.
RESULTS = {"delivered": "delivered", "pending": "retry", "failed": "failed"}
RETRY_DELAYS = tuple(timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000))
MAX_RETRY_AFTER = timedelta(hours=24)
BATCH = 200
DISPATCH_BATCH = 2000
MAX_DISPATCH_ROUNDS = 10


def _retry_after(response: httpx.Response, now: datetime) -> timedelta | None:
    """Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), at most a day; None
    when absent, malformed or already past."""
    value = response.headers.get("retry-after", "").strip()
    if not value.isascii():
        return None
    if value.isdigit():
        digits = value.lstrip("0")
        if len(digits) > 6:  # past the cap, and maybe past what int() and timedelta take
            return MAX_RETRY_AFTER
        return min(timedelta(seconds=int(digits or "0")), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    wait = when.replace(tzinfo=when.tzinfo or UTC) - now
    return min(wait, MAX_RETRY_AFTER) if wait > timedelta() else None


def _failed(
    delivery: Leased, now: datetime, code: int | None, error: str, wait: timedelta | None = None
) -> Outcome:
    step = delivery.retry_step
    if step >= len(RETRY_DELAYS):
        return Outcome(delivery, "failed", step, now, code, error[:500])
    delay = max(RETRY_DELAYS[step], wait or timedelta())
    return Outcome(delivery, "pending", step + 1, now + delay, code, error[:500])


def judge(delivery: Leased, response: httpx.Response, now: datetime) -> Outcome:
    """What an answer means for the delivery: done, retry (when), or give up."""
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(delivery, "delivered", delivery.retry_step, now, code, None)
    if code == 410:
        return Outcome(delivery, "failed", delivery.retry_step, now, code, "410 Gone", gone=True)
    wait = _retry_after(response, now) if code == 429 else None
    return _failed(delivery, now, code, f"HTTP {code}", wait)


async def send(
    client: httpx.AsyncClient, delivery: Leased, settings: Settings, now: datetime
) -> Outcome:
    """POST the delivery; the outcome is scheduled from `now`, the round's time."""
    sent_at = system_now()
    try:
        await check_url(delivery.url, allow_private=settings.webhook_allow_private)
        signature = Webhook(delivery.secret).sign(str(delivery.id), sent_at, delivery.body)
        response = await client.post(
            delivery.url,
            content=delivery.body.encode(),
            headers={
                "content-type": "application/json",
                "webhook-id": str(delivery.id),
                "webhook-timestamp": str(int(sent_at.timestamp())),
                "webhook-signature": signature,
            },
            timeout=settings.webhook_timeout_seconds,
        )
        return judge(delivery, response, now)
    except RefusedUrl as exc:
        return _failed(delivery, now, None, f"refused URL: {exc}")
    except httpx.TimeoutException:
        return _failed(delivery, now, None, "timed out")
    except Exception as exc:  # whatever goes wrong with one delivery fails only its attempt
        return _failed(delivery, now, None, f"{type(exc).__name__}: {exc}")


async def deliver_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    settings: Settings,
    now: datetime | None = None,
    batch: int = BATCH,
    release_on_cancel: bool = False,
) -> int:
    """One round: fan out new outbox events, lease due deliveries, send, record; the count
    of deliveries attempted. `now` (tests) stands in for the wall clock in the schedule and
    leases; signature timestamps are always the wall clock. Cancelled while sending, the
    round keeps its leases (as a crash would) unless `release_on_cancel`."""
    at = now or system_now()
    lease_until = at + timedelta(seconds=settings.webhook_timeout_seconds + 30)
    for _ in range(MAX_DISPATCH_ROUNDS):  # catch up after a burst (e.g. a full evaluation)
        async with sessionmaker() as session:
            taken = await repository.dispatch(session, at, DISPATCH_BATCH)
            await session.commit()
        if taken < DISPATCH_BATCH:
            break
    async with sessionmaker() as session:
        leased = await repository.lease(session, at, lease_until, batch)
        pending = await repository.backlog(session)
        await session.commit()
    if not leased:
        metrics.webhook_round([], pending)
        return 0
    limit = asyncio.Semaphore(settings.webhook_concurrency)

    async def bounded(delivery: Leased) -> Outcome:
        async with limit:
            return await send(client, delivery, settings, at)

    try:
        outcomes = await asyncio.gather(*(bounded(d) for d in leased))
        async with sessionmaker() as session:
            await repository.record(session, list(outcomes), at, lease_until)
            await session.commit()
    except asyncio.CancelledError:
        if release_on_cancel:  # a stopping process (a killed one cannot) hands its work back
            await _release(sessionmaker, leased, lease_until)
        raise
    except Exception:  # a failed round hands back what it could not record
        await _release(sessionmaker, leased, lease_until)
        raise
    finished = sum(o.status != "pending" for o in outcomes)
    metrics.webhook_round([RESULTS[o.status] for o in outcomes], pending - finished)
    return len(leased)


async def _release(
    sessionmaker: async_sessionmaker[AsyncSession], leased: list[Leased], lease_until: datetime
) -> None:
    async with sessionmaker() as session:
        await repository.release(session, leased, lease_until)
        await session.commit()


def new_client(settings: Settings) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=settings.webhook_concurrency)
    return httpx.AsyncClient(limits=limits, follow_redirects=False)


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    idle_seconds: float = 1.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Rounds until `stop` is set (the round under way finishes); cancelled mid-round, the
    deliveries not yet answered are released, not left leased."""
    stop = stop or asyncio.Event()
    async with new_client(settings) as client:
        while not stop.is_set():
            attempted = 0
            try:
                attempted = await deliver_once(
                    sessionmaker, client, settings, release_on_cancel=True
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("delivery round failed", extra={"error": type(exc).__name__})
            if attempted < BATCH:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_seconds)


async def drain(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, stop: asyncio.Event
) -> int:
    """Rounds until nothing is due or `stop` is set; the count of deliveries attempted.
    Cancelled mid-round, the deliveries not yet answered are released."""
    total = 0
    async with new_client(settings) as client:
        while not stop.is_set():
            attempted = await deliver_once(sessionmaker, client, settings, release_on_cancel=True)
            if not attempted:
                break
            total += attempted
    return total
