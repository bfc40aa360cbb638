"""Keep the work queue current: after any change to an account's history (an evaluation, an
interaction, an outcome, a payment's follow-up, a promise), its tasks are recomputed at once —
which calls it wants, for which purpose, from when the contact rules allow them, and how
urgent they are — so a claim only scans ready rows whose time has come."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.dialer import rules
from app.dialer.generation_repository import GenerationRepository, TaskContext, WantedTask
from app.dialer.priority import lateness_points, task_priority
from app.policy.contact_facts import AccountContactFacts, ContactFacts
from app.policy.contact_rules import decide_contact, pack_for
from app.policy.document import ContactPack
from app.policy.localtime import local_date, start_of_day
from app.policy.purposes import choose_purpose

# eligible_at is computed for a short lease; a claim re-checks with its own lease length.
NOMINAL_LEASE_SECONDS = 60
ONE_DAY = timedelta(days=1)


def _purposes(
    account: AccountContactFacts,
    contact: ContactFacts,
    pack: ContactPack,
    context: TaskContext,
    now: datetime,
    zone: str,
) -> list[tuple[str, datetime]]:
    """The calls this contact is wanted for, each with the instant it is wanted from."""
    follow_ups = context.follow_ups
    today = local_date(now, zone)
    chosen = choose_purpose(
        account, contact, pack, today, payment_to_confirm="payment_confirmation" in follow_ups
    )
    if contact.is_third_party:
        return [(chosen, now)] if chosen else []
    if chosen == "payment_confirmation":
        return [(chosen, max(now, follow_ups[chosen]))]
    due = account.pending_promise_due
    if due is not None:
        # One promise reminder, on the day before the promise falls due; else it lapses.
        if context.promise_reminded or today > due - ONE_DAY:
            return []
        return [("promise_reminder", max(now, start_of_day(due - ONE_DAY, zone)))]
    wanted: list[tuple[str, datetime]] = [(chosen, now)] if chosen else []
    if "collect" in follow_ups and chosen is not None and account.balance > 0:
        # The practice's prompt collect call (a short payment on a promise) joins the plan.
        wanted = [(p, at) for p, at in wanted if p != "collect"]
        wanted.append(("collect", max(now, follow_ups["collect"])))
    return wanted


@dataclass(frozen=True, slots=True)
class SinceComputed:
    """What the passing of time alone changed in an account's task inputs since its tasks were
    computed. Everything else they depend on changes with a write (which recomputes them) or
    shows as an evaluation's effect (tier, stage, a promise's outcome)."""

    recompute: bool  # never computed, or a hold ran out since
    lateness_shift: int  # priority points gained since (days past due: only ever additive)


def since_computed(
    last: datetime | None,
    now: datetime,
    timezone: str,
    due_date: date,
    hold_untils: Iterable[datetime | None],
    today: date | None = None,
) -> SinceComputed:
    """For tasks computed at `last` (None: never); days past due count in the tenant's zone
    `timezone`, as `sync_tasks` counts them (`today`: `now`'s date there, when known)."""
    if last is None:
        return SinceComputed(True, 0)
    ended = any(until is not None and last < until <= now for until in hold_untils)
    before = lateness_points((local_date(last, timezone) - due_date).days)
    after = lateness_points(((today or local_date(now, timezone)) - due_date).days)
    return SinceComputed(ended, after - before)


async def refresh_after_evaluation(
    session: AsyncSession,
    tenant_id: int,
    timezone: str,
    changed: list[int],
    since: Mapping[int, SinceComputed],
    now: datetime,
) -> None:
    """After a due evaluation: recompute the tasks of the accounts whose decision `changed`
    something or whose inputs time changed; where only days past due moved, shift the
    priorities (lateness is a plain addend of a priority: the same result, without deciding)."""
    changed_ids = set(changed)
    recompute = sorted(changed_ids | {i for i, c in since.items() if c.recompute})
    await sync_tasks(session, tenant_id, timezone, recompute, now)
    shifts = {
        i: c.lateness_shift
        for i, c in since.items()
        if c.lateness_shift and not c.recompute and i not in changed_ids
    }
    await GenerationRepository(session).shift_priorities(tenant_id, shifts, now)


async def sync_tasks(
    session: AsyncSession, tenant_id: int, timezone: str, account_ids: list[int], now: datetime
) -> None:
    """Recompute these accounts' open tasks (`timezone`: the tenant's, for days past due)."""
    ids = sorted(set(account_ids))
    if not ids:
        return
    loaded = await rules.load(session, tenant_id, ids, now)
    repo = GenerationRepository(session)
    contexts = await repo.contexts(tenant_id, ids)
    wanted: list[WantedTask] = []
    tenant_today = local_date(now, timezone)
    for account_id in ids:
        found, context = loaded.facts.get(account_id), contexts.get(account_id)
        if found is None or context is None:
            continue
        account, history = found
        zone = account.debtor_timezone or timezone
        pack = pack_for(account, loaded.policy)
        days_past_due = max(0, (tenant_today - context.due_date).days)
        for contact in account.contacts:
            if contact.kind != "phone":
                continue
            for purpose, not_before in _purposes(account, contact, pack, context, now, zone):
                decision = decide_contact(
                    account,
                    contact,
                    history,
                    loaded.policy,
                    not_before,
                    NOMINAL_LEASE_SECONDS,
                    explain=False,
                )
                if decision.next_allowed_at is None:
                    continue  # never allowed as things stand: no task (a stop, a status)
                wanted.append(
                    WantedTask(
                        account_id=account_id,
                        debtor_id=context.debtor_id,
                        contact_id=uuid.UUID(contact.id),
                        purpose=purpose,
                        priority=task_priority(
                            purpose=purpose,
                            stage=account.stage,
                            tier=account.tier,
                            days_past_due=days_past_due,
                            balance=account.balance,
                        ),
                        eligible_at=decision.next_allowed_at,
                        tier=account.tier,
                        stage=account.stage,
                        partner=context.partner,
                        excluded_agents=context.prior_agents,
                    )
                )
    await repo.replace_tasks(tenant_id, ids, wanted, now)
