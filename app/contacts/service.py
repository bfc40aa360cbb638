from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import load_account
from app.audit.service import audit
from app.auth import Principal
from app.contacts.normalise import normalise_contact_value
from app.contacts.repository import ContactRepository
from app.contacts.schemas import ContactIn, ContactOut, ContactPatch
from app.errors import Conflict, NotFound, invalid
from app.evaluation.context import Actor
from app.evaluation.service import reevaluate
from app.http.pagination import Page, decode_cursor, encode_cursor
from app.logs import request_id_var
from app.masking import mask_contact_value
from app.models import Contact


def contact_out(contact: Contact, *, masked: bool) -> ContactOut:
    value = mask_contact_value(contact.kind, contact.value) if masked else contact.value
    return ContactOut.model_validate(
        {
            "id": contact.id,
            "kind": contact.kind,
            "value": value,
            "relationship": contact.relationship,
            "label": contact.label,
            "status": contact.status,
            "timezone": contact.timezone,
        }
    )


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "id": str(contact.id),
        "kind": contact.kind,
        "value": contact.value,
        "relationship": contact.relationship,
        "label": contact.label,
        "status": contact.status,
        "timezone": contact.timezone,
    }


async def list_contacts(
    session: AsyncSession, principal: Principal, ref: str, cursor: str | None, limit: int
) -> Page[ContactOut]:
    account = await load_account(session, principal, ref)
    after = decode_cursor(cursor, 1)
    try:
        after_id = UUID(after[0]) if after else None
    except (ValueError, TypeError) as exc:
        raise invalid(("query", "cursor"), "not a cursor this endpoint issued") from exc
    contacts = await ContactRepository(session).for_account(
        principal.tenant_id, account.id, after_id, limit + 1
    )
    next_cursor = encode_cursor(contacts[limit - 1].id) if len(contacts) > limit else None
    masked = principal.partner is not None
    return Page(
        items=[contact_out(c, masked=masked) for c in contacts[:limit]], next_cursor=next_cursor
    )


async def create_contact(
    session: AsyncSession, principal: Principal, ref: str, body: ContactIn
) -> ContactOut:
    account = await load_account(session, principal, ref, for_update=True)
    try:
        value = normalise_contact_value(body.kind, body.value, account.jurisdiction)
    except ValueError as exc:
        raise invalid(("body", "value"), str(exc)) from exc
    repo = ContactRepository(session)
    if (existing := await repo.find(principal.tenant_id, account.id, body.kind, value)) is not None:
        raise Conflict(
            "This account already has that contact.", extra={"contact_id": str(existing.id)}
        )
    contact = Contact(
        tenant_id=principal.tenant_id,
        account_id=account.id,
        kind=body.kind.value,
        value=value,
        relationship=body.relationship.value,
        label=body.label,
        status=body.status.value,
        timezone=body.timezone,
        updated_at=principal.clock.now(),
    )
    session.add(contact)
    await session.flush()
    audit(
        session,
        principal,
        entity="contact",
        entity_id=str(contact.id),
        action="contact.created",
        account_id=account.id,
        before=None,
        after=contact_snapshot(contact),
    )
    # A new number is new work for the dialer (and a new reference may matter to the rules).
    await reevaluate(session, Actor.of(principal, request_id_var.get()), [account.id])
    return contact_out(contact, masked=principal.partner is not None)


async def patch_contact(
    session: AsyncSession, principal: Principal, ref: str, contact_id: UUID, body: ContactPatch
) -> ContactOut:
    account = await load_account(session, principal, ref, for_update=True)
    contact = await ContactRepository(session).get(
        principal.tenant_id, account.id, contact_id, for_update=True
    )
    if contact is None:
        raise NotFound(f"No contact {contact_id} on account {ref!r}.")
    before = contact_snapshot(contact)
    sent = body.model_fields_set
    for name in ("relationship", "status"):
        if name in sent and getattr(body, name) is None:
            raise invalid(("body", name), "must not be null")
    if body.status is not None and body.status.value != contact.status:
        if contact.status == "do_not_contact":
            raise Conflict("A do_not_contact contact stays do_not_contact.")
        contact.status = body.status.value
    if body.relationship is not None:
        contact.relationship = body.relationship.value
    if "label" in sent:
        contact.label = body.label
    if "timezone" in sent:
        contact.timezone = body.timezone
    contact.updated_at = principal.clock.now()
    audit(
        session,
        principal,
        entity="contact",
        entity_id=str(contact.id),
        action="contact.updated",
        account_id=account.id,
        before=before,
        after=contact_snapshot(contact),
    )
    await session.flush()
    # Whether past calls reached the debtor depends on the relationship (the episode summary,
    # the tier); what the dialer may call depends on status, relationship and zone.
    await reevaluate(session, Actor.of(principal, request_id_var.get()), [account.id])
    return contact_out(contact, masked=principal.partner is not None)
