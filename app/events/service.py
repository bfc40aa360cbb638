"""POST /v1/events: validate each event, lock the touched accounts, tell new events from
duplicates and conflicts, check each against the accounts, then apply the batch in sets.

The whole batch is one transaction (the request boundary commits it). Rejected events are
not stored. An id already stored with the same content is a `duplicate`; with another
content a conflict. Inside a batch the first occurrence of an id wins.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import Principal
from app.contacts.normalise import normalise_contact_value
from app.errors import AppError, Conflict, NotFound, PayloadTooLarge, invalid
from app.events.admission import admission
from app.events.apply import apply_batch
from app.events.context import Seed
from app.events.parse import Incoming, parse, sent_id
from app.events.projection import AccountRow
from app.events.repository import EventRepository
from app.events.schemas import MAX_EVENTS, EventBatchOut, EventProblem, EventResult
from app.models.events import EventType
from app.policy_api.repository import PolicyRepository

_DELINQUENT = EventType.account_delinquent
_PAYMENT = EventType.payment_received
_REVERSAL = EventType.payment_reversed


@dataclass(slots=True)
class _Target:
    """What an event's account resolves to while the batch is checked."""

    currency: str
    jurisdiction: str
    row: AccountRow | None  # None: created by an account.delinquent in this batch


@dataclass(slots=True)
class _Batch:
    principal: Principal
    results: list[EventResult | None]
    candidates: list[Incoming] = field(default_factory=list)  # first occurrences
    repeats: list[tuple[int, Incoming, bool]] = field(default_factory=list)  # later ones
    accepted: list[Incoming] = field(default_factory=list)
    seeds: dict[str, list[Seed]] = field(default_factory=dict)  # event id → its contacts
    accounts: dict[str, AccountRow] = field(default_factory=dict)  # by ref, locked

    def reject(self, index: int, event_id: str | None, error: AppError) -> None:
        self.results[index] = EventResult(
            id=event_id, status="rejected", error=EventProblem.model_validate(error.problem())
        )

    def mark(self, event: Incoming, status: str) -> None:
        self.results[event.index] = EventResult.model_validate({"id": event.id, "status": status})

    def parse(self, items: list[Any], principal: Principal) -> None:
        now = principal.clock.now()
        first: dict[str, Incoming] = {}
        for index, item in enumerate(items):
            parsed = parse(index, item, now)
            if isinstance(parsed, AppError):
                self.reject(index, sent_id(item), parsed)
            elif parsed.id in first:
                earlier = first[parsed.id]
                self.repeats.append((index, earlier, earlier.digest == parsed.digest))
            else:
                first[parsed.id] = parsed
                self.candidates.append(parsed)

    async def lock(self, repo: EventRepository) -> None:
        """Existing accounts in id order; then refs that this batch may create, under an
        advisory lock each, so two batches creating one account run one after the other."""
        refs = sorted({e.account_ref for e in self.candidates})
        self.accounts = {row.ref: row for row in await repo.lock_accounts(refs)}
        creating = sorted(
            {e.account_ref for e in self.candidates if e.type is _DELINQUENT} - set(self.accounts)
        )
        if creating:
            await repo.lock_new_refs(creating)
            for row in await repo.lock_accounts(creating):
                self.accounts[row.ref] = row

    async def check(self, repo: EventRepository) -> None:
        stored = await repo.stored_digests([e.id for e in self.candidates])
        fresh: list[Incoming] = []
        for event in self.candidates:
            digest = stored.get(event.id)
            if digest is None:
                fresh.append(event)
            elif digest == event.digest:
                self.mark(event, "duplicate")
            else:
                self.reject(event.index, event.id, _id_conflict(event, "was already received"))
        payments = (_PAYMENT, _REVERSAL)
        keys = {
            (self.accounts[e.account_ref].id, e.data.payment_ref)
            for e in fresh
            if e.type in payments and e.account_ref in self.accounts
        }
        recorded = await repo.payment_sources(sorted(keys))
        targets: dict[str, _Target] = {
            ref: _Target(row.currency, row.jurisdiction, row)
            for ref, row in self.accounts.items()
            if self.principal.partner in (None, row.partner)
        }
        in_batch: dict[tuple[str, str], str] = {}
        # Creations first and reversals last: an event may rely on any other in the batch.
        order = sorted(fresh, key=lambda e: (e.type is not _DELINQUENT, e.type is _REVERSAL))
        for event in order:
            error = self._check(event, targets, recorded, in_batch)
            if error is None:
                self.accepted.append(event)
            else:
                self.reject(event.index, event.id, error)
        self.accepted.sort(key=lambda e: e.index)

    def _check(
        self,
        event: Incoming,
        targets: dict[str, _Target],
        recorded: dict[tuple[int, str], str | None],
        in_batch: dict[tuple[str, str], str],
    ) -> AppError | None:
        target = targets.get(event.account_ref)
        if event.type is _DELINQUENT:
            return self._check_delinquent(event, target, targets)
        if target is None:
            return NotFound(
                f"No account {event.account_ref!r}.",
                errors=[{"loc": event.loc("account_ref"), "msg": "unknown account"}],
            )
        data = event.data
        if event.type is _PAYMENT:
            if data.currency is not None and data.currency != target.currency:
                return invalid(event.loc("data", "currency"), "differs from the account's")
            key = (event.account_ref, data.payment_ref)
            source = in_batch.get(key)
            if source is None and target.row is not None:
                stored = (target.row.id, data.payment_ref)
                if stored in recorded:
                    source = recorded[stored] or "(none)"
            if source is not None:
                return Conflict(
                    f"Payment {data.payment_ref!r} was already recorded by event {source!r}.",
                    errors=[{"loc": event.loc("data", "payment_ref"), "msg": "already recorded"}],
                )
            in_batch[key] = event.id
        elif event.type is _REVERSAL:
            known = (event.account_ref, data.payment_ref) in in_batch or (
                target.row is not None and (target.row.id, data.payment_ref) in recorded
            )
            if not known:
                return NotFound(
                    f"No payment {data.payment_ref!r} on account {event.account_ref!r}.",
                    errors=[{"loc": event.loc("data", "payment_ref"), "msg": "unknown payment"}],
                )
        elif event.type is EventType.contact_upserted:
            try:
                value = normalise_contact_value(data.kind, data.value, target.jurisdiction)
            except ValueError as exc:
                return invalid(event.loc("data", "value"), str(exc))
            self.seeds[event.id] = [_seed(data, value, explicit_status=True)]
        return None

    def _check_delinquent(
        self, event: Incoming, target: _Target | None, targets: dict[str, _Target]
    ) -> AppError | None:
        data, partner = event.data, self.principal.partner
        if partner is not None and data.partner not in (None, partner):
            return invalid(event.loc("data", "partner"), "a partner key can only place its own")
        if target is None and event.account_ref in self.accounts:
            return NotFound(  # another partner's account: as if it did not exist
                f"No account {event.account_ref!r}.",
                errors=[{"loc": event.loc("account_ref"), "msg": "unknown account"}],
            )
        if target is not None and data.currency != target.currency:
            return invalid(event.loc("data", "currency"), "an account's currency cannot change")
        jurisdiction = (
            data.jurisdiction.value
            if data.jurisdiction is not None
            else (target.jurisdiction if target is not None else self.principal.jurisdiction)
        )
        seeds = []
        for index, contact in enumerate(data.contacts):
            try:
                value = normalise_contact_value(contact.kind, contact.value, jurisdiction)
            except ValueError as exc:
                return invalid(event.loc("data", "contacts", index, "value"), str(exc))
            seeds.append(_seed(contact, value, explicit_status=False))
        self.seeds[event.id] = seeds
        if target is None:
            targets[event.account_ref] = _Target(data.currency, jurisdiction, None)
        return None

    def settle_repeats(self) -> None:
        for index, first, same in self.repeats:
            if not same:
                self.reject(index, first.id, _id_conflict(first, "appears earlier in this batch"))
                continue
            earlier = self.results[first.index]
            assert earlier is not None
            if earlier.status == "rejected":
                self.results[index] = earlier
            else:
                self.results[index] = EventResult(id=first.id, status="duplicate")

    def response(self) -> EventBatchOut:
        results = [r for r in self.results if r is not None]
        assert len(results) == len(self.results)
        counts = {"applied": 0, "duplicate": 0, "rejected": 0}
        for result in results:
            counts[result.status] += 1
        return EventBatchOut(
            applied=counts["applied"],
            duplicates=counts["duplicate"],
            rejected=counts["rejected"],
            results=results,
        )


def _id_conflict(event: Incoming, where: str) -> Conflict:
    return Conflict(
        f"Event {event.id!r} {where} with different content.",
        errors=[{"loc": event.loc("id"), "msg": "same id, different content"}],
    )


def _seed(contact: Any, value: str, *, explicit_status: bool) -> Seed:
    status = None
    if explicit_status and "status" in contact.model_fields_set:
        status = contact.status.value
    return Seed(
        kind=contact.kind.value,
        value=value,
        relationship=contact.relationship.value,
        label=contact.label,
        timezone=contact.timezone,
        status=status,
    )


async def ingest(session: AsyncSession, principal: Principal, items: list[Any]) -> EventBatchOut:
    if len(items) > MAX_EVENTS:
        raise PayloadTooLarge(
            f"A batch holds at most {MAX_EVENTS} events; this one has {len(items)}."
        )
    batch = _Batch(principal, [None] * len(items))
    batch.parse(items, principal)
    if batch.candidates:
        # Before any lock: a tenant's first policy version may be inserted here, and two
        # batches waiting on that insert while holding account locks could deadlock.
        policy = await PolicyRepository(session).current(principal.tenant_id)
        refs = {event.account_ref for event in batch.candidates}
        await admission.enter(session, principal.tenant_id, refs)
        repo = EventRepository(session, principal.tenant_id)
        await batch.lock(repo)
        await batch.check(repo)
        if batch.accepted:
            await apply_batch(
                session, principal, policy.version, batch.accepted, batch.accounts, batch.seeds
            )
            for event in batch.accepted:
                batch.mark(event, "applied")
    batch.settle_repeats()
    return batch.response()
