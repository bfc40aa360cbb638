"""Every input the API takes is bounded, read from the OpenAPI schema of the whole route
table, so a new route (or field) without a bound fails here.

A string is bounded by maxLength, an enum or const, a date/time format, or a pattern anchored
at both ends; an array by maxItems; an object with free keys by an enum of key names. Bodies
as a whole are bounded by TACTFUL_MAX_BODY_BYTES (413).
"""

from typing import Any

from app.config import Settings
from app.main import create_app

# Bounded elsewhere, with the status api.md fixes: more than 1,000 events is a 413.
BOUNDED_BY_THE_SERVICE = {"POST /v1/events body.events"}
_FORMATS = {"date", "date-time", "time", "uuid"}

SCHEMA = create_app(Settings()).openapi()
COMPONENTS = SCHEMA["components"]["schemas"]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = COMPONENTS[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _anchored(pattern: str | None) -> bool:
    return (
        bool(pattern)
        and pattern.startswith("^")
        and pattern.endswith("$")
        and "*" not in pattern
        and "+" not in pattern
    )


def unbounded(node: dict[str, Any], where: str, seen: frozenset[int] = frozenset()) -> list[str]:
    node = _resolve(node)
    if id(node) in seen:
        return []
    seen |= {id(node)}
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, []):
            found += unbounded(branch, where, seen)
    kind = node.get("type")
    if kind == "string" and not (
        "maxLength" in node
        or "enum" in node
        or "const" in node
        or node.get("format") in _FORMATS
        or _anchored(node.get("pattern"))
    ):
        found.append(f"{where}: string without maxLength")
    if kind == "array":
        if "maxItems" not in node and where not in BOUNDED_BY_THE_SERVICE:
            found.append(f"{where}: array without maxItems")
        found += unbounded(node.get("items", {}), f"{where}[]", seen)
    for name, child in node.get("properties", {}).items():
        found += unbounded(child, f"{where}.{name}", seen)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        if "enum" not in node.get("propertyNames", {}):
            found.append(f"{where}: object with free keys")
        found += unbounded(extra, f"{where}.*", seen)
    return found


def test_every_request_input_is_bounded() -> None:
    found: list[str] = []
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{name} {parameter['in']}.{parameter['name']}"
                found += unbounded(parameter.get("schema", {}), where)
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body is not None:
                found += unbounded(body, f"{name} body")
    assert found == []


def test_the_check_sees_an_unbounded_field() -> None:
    assert unbounded({"type": "string"}, "x") == ["x: string without maxLength"]
    assert unbounded({"type": "array", "items": {"type": "integer"}}, "y") == [
        "y: array without maxItems"
    ]
    assert unbounded({"type": "string", "pattern": "^a+$"}, "z") == ["z: string without maxLength"]
