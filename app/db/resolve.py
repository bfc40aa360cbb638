"""Which PostgreSQL to use: DATABASE_URL when set, else an embedded server under ./.data/."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from app.config import Settings

log = logging.getLogger("tactful.db")
EMBEDDED_DATABASE = "tactful"


@dataclass(frozen=True, slots=True)
class Database:
    url: str
    embedded: bool


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """Yield the database to use; an embedded server started here is stopped on exit."""
    if settings.database_url:
        yield Database(settings.database_url, embedded=False)
        return
    from app.db.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(settings.data_dir.resolve() / "pg")
    dsn = server.start()
    try:
        server.create_database(EMBEDDED_DATABASE)
        yield Database(with_database(dsn, EMBEDDED_DATABASE), embedded=True)
    finally:
        if server.started_here:
            log.info("stopping embedded PostgreSQL")
            server.stop()
