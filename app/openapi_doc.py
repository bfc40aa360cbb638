"""Render the app's OpenAPI schema as openapi.md (`make openapi`; a test keeps it current)."""

import sys
from typing import Any

from app.config import Settings

HTTP_METHODS = ("get", "put", "post", "patch", "delete")

PREAMBLE = """# Tactful HTTP API reference

Generated from the running app's OpenAPI schema by `make openapi`; do not edit by hand
(a test fails when this file is stale). The contract's prose lives in the README.

## Conventions
- Authentication: `Authorization: Bearer <api key>`. Missing or bad key → 401; a key without
  the endpoint's scope → 403; another tenant's (or, for a partner key, another partner's)
  object → 404.
- Partner-bound keys see only accounts placed with their partner; debtor names, phone numbers,
  e-mails, addresses and notes are masked (`+86 138****5678`, `L*** W***`).
- Errors are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, and
  for validation `errors: [{loc, msg}]` naming each field at fault. Never a stack trace.
- Every POST and PUT accepts `Idempotency-Key` (1–255 printable ASCII, kept 24 h per
  tenant): the same key and body replays the first response (header
  `Idempotent-Replayed: true`); a different body → 422; while the first is running → 409.
- Lists: `?limit=` (1..500, default 50), `?cursor=` from `next_cursor`; `{items, next_cursor}`.
- Money is integer minor units with an ISO 4217 `currency`; times RFC 3339 with offset;
  dates `YYYY-MM-DD`; time zones IANA names.
- Definitions: `days_past_due` = while `delinquent`, max(0, today in the tenant's zone −
  `due_date`), else 0. A contact is identified by (account, kind, normalised value); phones
  are stored in E.164, e-mails lower-cased.
"""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"[{_ref_name(schema['$ref'])}](#{_ref_name(schema['$ref']).lower()})"
    if "anyOf" in schema:
        return " \\| ".join(_type(option) for option in schema["anyOf"])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _type(schema["allOf"][0])
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        return "object"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    if "const" in schema:
        return f"`{schema['const']}`"
    return str(kind)


def _constraints(schema: dict[str, Any]) -> str:
    parts = []
    for key, label in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("maxItems", "max items"),
        ("pattern", "pattern"),
    ):
        for option in [schema, *schema.get("anyOf", [])]:
            if key in option:
                value = f"`{option[key]}`" if key == "pattern" else option[key]
                parts.append(f"{label} {value}")
    if "default" in schema and schema["default"] is not None:
        parts.append(f"default `{schema['default']}`")
    return ", ".join(parts)


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _operation(method: str, path: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", op.get("summary", "")]
    if op.get("description"):
        lines += ["", _cell(op["description"])]
    scopes = op.get("x-required-scopes")
    lines += ["", f"Scope: {', '.join(f'`{s}`' for s in scopes)}" if scopes else "Scope: none"]
    params = op.get("parameters", [])
    if params:
        lines += ["", "| parameter | in | type | required | constraints |", "|---|---|---|---|---|"]
        for p in params:
            schema = p.get("schema", {})
            lines.append(
                f"| `{p['name']}` | {p['in']} | {_type(schema)} | "
                f"{'yes' if p.get('required') else 'no'} | {_cell(_constraints(schema))} |"
            )
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        lines += ["", f"Body (`application/json`): {_type(body['schema'])}"]
    lines += ["", "| status | meaning | body |", "|---|---|---|"]
    for code, response in sorted(op.get("responses", {}).items()):
        content: dict[str, dict[str, Any]] = response.get("content", {})
        shown = "—"
        for media, body_schema in content.items():
            shown = f"{_type(body_schema.get('schema', {}))} (`{media}`)"
        lines.append(f"| {code} | {_cell(response.get('description', ''))} | {shown} |")
    return [*lines, ""]


def _schema_section(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [_cell(schema["description"]), ""]
    if "enum" in schema:
        return [*lines, "One of: " + ", ".join(f"`{v}`" for v in schema["enum"]), ""]
    properties = schema.get("properties", {})
    if not properties:
        return [*lines, f"Type: {_type(schema)}", ""]
    required = set(schema.get("required", []))
    lines += ["| field | type | required | constraints | description |", "|---|---|---|---|---|"]
    for field, prop in properties.items():
        lines.append(
            f"| `{field}` | {_type(prop)} | {'yes' if field in required else 'no'} | "
            f"{_cell(_constraints(prop))} | {_cell(prop.get('description', ''))} |"
        )
    return [*lines, ""]


def render(spec: dict[str, Any]) -> str:
    lines = [PREAMBLE, "## Endpoints", ""]
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                lines += _operation(method, path, item[method])
    lines += ["## Schemas", ""]
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        lines += _schema_section(name, schema)
    return "\n".join(lines).rstrip() + "\n"


def current() -> str:
    from app.main import create_app

    app = create_app(Settings(database_url="postgresql://openapi@localhost/openapi"))
    return render(app.openapi())


if __name__ == "__main__":
    sys.stdout.write(current())
