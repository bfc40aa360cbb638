"""Idempotency-Key for POST and PUT, kept in PostgreSQL.

The key's record is written in the same transaction as the work, so a request that failed or
crashed leaves nothing behind. A transaction-scoped advisory lock on (tenant, key) tells a
concurrent duplicate that the first request is still running (409).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import system_now
from app.errors import Conflict, ValidationFailed, field_error
from app.models import IdempotencyRecord

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
_LOC = ["header", HEADER]


class IdempotentReplay(Exception):
    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        self.record = record


@dataclass(frozen=True, slots=True)
class _Pending:
    tenant_id: int
    key: str
    digest: bytes


def _invalid(msg: str) -> ValidationFailed:
    return ValidationFailed(f"{HEADER}: {msg}", errors=[field_error(_LOC, msg)])


def _request_digest(request: Request, body: bytes, key_id: int) -> bytes:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    # The API key is part of the request: another key (another partner) never gets a replay.
    head = f"{key_id} {request.method} {request.url.path}?{request.url.query}\n".encode()
    return hashlib.sha256(head + canonical).digest()


async def begin(request: Request, session: AsyncSession, tenant_id: int, key_id: int) -> None:
    """Replay, refuse, or mark the request so its response is remembered at commit."""
    key = request.headers.get(HEADER)
    if key is None or request.method not in ("POST", "PUT"):
        return
    if not 1 <= len(key) <= 255 or not key.isprintable() or not key.isascii():
        raise _invalid("must be 1 to 255 printable ASCII characters")
    digest = _request_digest(request, await request.body(), key_id)
    lock_name = f"idempotency:{tenant_id}:{key}"
    locked = await session.scalar(
        select(func.pg_try_advisory_xact_lock(func.hashtextextended(lock_name, 0)))
    )
    if not locked:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    record = await session.get(IdempotencyRecord, (tenant_id, key))
    if record is not None and record.created_at < system_now() - RETENTION:
        await session.delete(record)
        await session.flush()
        record = None
    if record is not None:
        if record.request_digest != digest:
            raise _invalid("this key was already used with a different request")
        raise IdempotentReplay(record)
    request.state.idempotency = _Pending(tenant_id, key, digest)


async def remember(request: Request, session: AsyncSession, response: Response) -> None:
    pending: _Pending | None = getattr(request.state, "idempotency", None)
    if pending is None:
        return
    session.add(
        IdempotencyRecord(
            tenant_id=pending.tenant_id,
            key=pending.key,
            request_digest=pending.digest,
            status_code=response.status_code,
            content_type=response.headers.get("content-type", "application/json"),
            response_body=bytes(response.body),
            created_at=system_now(),  # compared with system_now(): one clock, not the database's
        )
    )
    await session.flush()


def replay_response(record: IdempotencyRecord) -> Response:
    return Response(
        content=record.response_body,
        status_code=record.status_code,
        media_type=record.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < system_now() - RETENTION)
    )
    return int(getattr(result, "rowcount", 0) or 0)
