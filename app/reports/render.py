"""Content negotiation for reports: JSON (the default) or CSV of the report's `rows`."""

import csv
import io
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.errors import NotAcceptable

Format = Literal["json", "csv"]
_MEDIA: dict[str, Format] = {
    "*/*": "json",
    "application/*": "json",
    "application/json": "json",
    "text/*": "csv",
    "text/csv": "csv",
}
CSV_MEDIA = "text/csv; charset=utf-8"


def negotiate(request: Request) -> Format:
    """The acceptable format with the highest q (ties: the first listed); 406 if none."""
    header = request.headers.get("accept", "").strip()
    if not header:
        return "json"
    best: tuple[float, Format] | None = None
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
        found = _MEDIA.get(media.lower())
        if found is not None and quality > 0 and (best is None or quality > best[0]):
            best = (quality, found)
    if best is None:
        raise NotAcceptable("Reports are available as application/json or text/csv.")
    return best[1]


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
