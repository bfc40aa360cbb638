"""Content negotiation for reports: JSON (the default) or CSV of the report's `rows`."""

import csv
import io
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.errors import NotAcceptable

Format = Literal["json", "csv"]
_TYPES: dict[Format, str] = {"json": "application/json", "csv": "text/csv"}
CSV_MEDIA = "text/csv; charset=utf-8"


def _ranges(header: str) -> list[tuple[str, float]]:
    """The header's media ranges with their q (a malformed q counts as 0)."""
    ranges = []
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranges.append((media.lower(), quality))
    return ranges


def _specificity(media_range: str, media_type: str) -> int | None:
    if media_range == media_type:
        return 2
    if media_range == media_type.split("/")[0] + "/*":
        return 1
    return 0 if media_range == "*/*" else None


def negotiate(request: Request) -> Format:
    """The format with the highest q, each format's q taken from the most specific range that
    matches it (RFC 9110 12.5.1: `application/json;q=0, */*` refuses JSON); on a tie, the
    format whose range is listed first, JSON for a shared range. 406 if none is acceptable."""
    header = request.headers.get("accept", "").strip()
    if not header:
        return "json"
    ranges = _ranges(header)
    best: tuple[float, int, Format] | None = None
    for fmt, media_type in _TYPES.items():
        matches = [
            (specificity, -position, quality)
            for position, (media_range, quality) in enumerate(ranges)
            if (specificity := _specificity(media_range, media_type)) is not None
        ]
        if not matches:
            continue
        _, first, quality = max(matches)
        if quality > 0 and (best is None or (quality, first) > best[:2]):
            best = (quality, first, fmt)
    if best is None:
        raise NotAcceptable("Reports are available as application/json or text/csv.")
    return best[2]


def _cell(value: Any) -> Any:
    return "" if value is None else value


def render(report: BaseModel, rows: list[BaseModel], fmt: Format) -> Response:
    if fmt == "json":
        return JSONResponse(report.model_dump(mode="json", by_alias=True))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = list(type(rows[0]).model_fields) if rows else _columns(report)
    writer.writerow(columns)
    for row in rows:
        dumped = row.model_dump(mode="json")
        writer.writerow([_cell(dumped[column]) for column in columns])
    return Response(buffer.getvalue(), media_type=CSV_MEDIA)


def _columns(report: BaseModel) -> list[str]:
    """The header of an empty report, from its rows' item type."""
    annotation = type(report).model_fields["rows"].annotation
    item = getattr(annotation, "__args__", (None,))[0]
    return list(item.model_fields) if isinstance(item, type) and issubclass(item, BaseModel) else []
