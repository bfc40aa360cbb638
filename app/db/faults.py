"""Which database failures mean "unavailable, retry" (503) rather than a bug (500)."""

import asyncpg
from sqlalchemy import exc as sa_exc

# SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57P operator
# intervention (shutdown, crash, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
STATEMENT_TIMEOUT = "57014"
_UNAVAILABLE_TYPES = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def sqlstate(exc: BaseException) -> str:
    for item in _chain(exc):
        code = getattr(item, "sqlstate", None) or getattr(item, "pgcode", None)
        if isinstance(code, str):
            return code
    return ""


def pool_exhausted(exc: BaseException) -> bool:
    return isinstance(exc, sa_exc.TimeoutError)


def database_unavailable(exc: BaseException) -> bool:
    """The database is down, restarting, unreachable or out of connections."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.InterfaceError):
        return True
    if sqlstate(exc).startswith(_UNAVAILABLE_SQLSTATES):
        return True
    return any(isinstance(item, _UNAVAILABLE_TYPES) for item in _chain(exc))
