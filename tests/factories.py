"""Request bodies for tests."""

from typing import Any


def account_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "debtor": {
            "name": "Li Wei",
            "timezone": "Asia/Shanghai",
            "locale": "zh-CN",
            "customer_ref": "cust-1",
        },
        "currency": "CNY",
        "principal": 500000,
        "balance": 320000,
        "due_date": "2026-11-01",
        "product": "personal_loan",
        "jurisdiction": "cn_nifa",
        "contacts": [
            {"kind": "phone", "value": "+86 138 1234 5678", "relationship": "self"},
            {"kind": "phone", "value": "+8613900001111", "relationship": "spouse", "label": "wife"},
            {"kind": "email", "value": "Li.Wei@Example.com", "relationship": "self"},
        ],
    }
    body.update(overrides)
    return body


def interaction_body(contact_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contact_id": contact_id,
        "channel": "call",
        "direction": "outbound",
        "occurred_at": "2026-11-20T10:00:00+08:00",
        "outcome": "no_answer",
    }
    body.update(overrides)
    return body


def contact_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "phone", "value": "+86 139 0000 2222", "relationship": "friend"}
    body.update(overrides)
    return body
