"""Set-based writes: one INSERT ... SELECT FROM unnest(...) per table and batch, instead of a
statement (or a VALUES tuple) per row."""

import json
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession


def _array_type(table: Table, column: str) -> tuple[str, bool]:
    sql_type = table.c[column].type
    if isinstance(sql_type, postgresql.JSONB):
        return "text", True
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return sql_type.compile(dialect=dialect), False


async def insert_unnest(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) in one statement; JSONB values are Python data."""
    if not rows:
        return
    columns = list(rows[0])
    arrays, selected, params = [], [], {}
    for index, column in enumerate(columns):
        element, is_json = _array_type(table, column)
        values = [row[column] for row in rows]
        if is_json:
            values = [None if v is None else json.dumps(v) for v in values]
        params[f"p{index}"] = values
        arrays.append(f"CAST(:p{index} AS {element}[])")
        selected.append(f"CAST(u.c{index} AS jsonb)" if is_json else f"u.c{index}")
    aliases = ", ".join(f"c{index}" for index in range(len(columns)))
    statement = text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - names come from the model
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u({aliases})"
    )
    await session.execute(statement, params)
