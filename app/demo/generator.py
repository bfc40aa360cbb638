"""Deterministic demo rows: pure, no I/O. The same seed, start and count give the same rows.

`generate` returns one tuple per row, columns in the order of `TABLES`, ready for COPY. Refs
and UUIDs come from the account's ordinal in the tenant's demo portfolio (`Start.ordinal`), so
a later load that continues the portfolio never collides with an earlier one. UUIDs are RFC
9562 version 8 (custom): ordinal first, so COPY appends to the primary-key indexes. E-mail
addresses use the reserved example.com/.net/.org domains.
"""

import hashlib
import json
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from app.demo import catalogue as cat
from app.demo.catalogue import DAY, GRACE_DAYS, Locale, T, Weighted, words

Row = tuple[object, ...]
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# Tables in foreign-key order, with the columns of their row tuples.
TABLES: dict[str, tuple[str, ...]] = {
    "debtors": words("tenant_id id customer_ref name timezone locale created_at updated_at"),
    "accounts": words(
        "tenant_id id ref debtor_id status currency principal balance due_date product "
        "jurisdiction partner assignee tier tier_reasons stage stage_entered_at reason_code "
        "reason_verification episode episode_started_at tier_score created_at updated_at"
    ),
    "evaluation_schedule": words("tenant_id account_id next_evaluation_at"),
    "contacts": words(
        "tenant_id id account_id kind value relationship label status created_at updated_at"
    ),
    "interactions": words(
        "tenant_id id account_id contact_id channel direction occurred_at outcome reason_code "
        "agent promise_amount promise_due_date callback_at effects content_digest recorded_by "
        "created_at"
    ),
    "promises": words(
        "tenant_id id account_id episode interaction_id amount due_date created_at status paid "
        "resolved_at"
    ),
    "payments": words("tenant_id id account_id payment_ref amount occurred_at created_at"),
    "holds": words("tenant_id id account_id kind until note created_at"),
}


@dataclass(frozen=True, slots=True)
class Start:
    """Where a batch begins: the first reserved ids and the first account's ordinal."""

    tenant_id: int
    debtor_id: int
    account_id: int
    ordinal: int = 0  # accounts already in the tenant's portfolio


@dataclass(slots=True)
class Batch:
    """Rows per table (attribute names = table names). Debtors ≤ accounts: a few debtors
    have two accounts, so a batch uses `len(debtors)` of the debtor ids from its start."""

    debtors: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    evaluation_schedule: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    interactions: list[Row] = field(default_factory=list)
    promises: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    holds: list[Row] = field(default_factory=list)

    def tables(self) -> dict[str, list[Row]]:
        return {name: getattr(self, name) for name in TABLES}


assert tuple(f.name for f in fields(Batch)) == tuple(TABLES)


class _Debtor(NamedTuple):
    locale: Locale
    zone: str  # also when the debtor's time zone is unknown: calls follow the locale's
    email: str


class _Phone(NamedTuple):
    id: UUID
    own: bool
    status: str


class _Call(NamedTuple):
    id: UUID
    at: int
    outcome: str
    reason: str | None
    promise: tuple[int, date] | None


def generate(seed: int, count: int, start: Start, today: date, now: datetime) -> Batch:
    """`count` accounts with their debtors and rows; `today` is the tenant's local date."""
    return _Generator(seed, start, today, now).run(count)


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _seconds(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY


class _Generator:
    def __init__(self, seed: int, start: Start, today: date, now: datetime) -> None:
        self.random = random.Random(f"tactful-demo/{seed}/{start.ordinal}").random  # noqa: S311
        self.bits = random.Random(f"tactful-demo-ids/{seed}/{start.ordinal}").getrandbits  # noqa: S311
        self.start, self.tenant, self.today = start, start.tenant_id, today
        self.now_s = int(now.timestamp())
        self.uuid_salt = (seed * 0x9E3779B1 + 0x5DEE) & 0xFFFF
        self.offsets = {  # calling hours use the UTC offset in force now
            zone: int((now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()).total_seconds())
            for locale in cat.LOCALES[0]
            for zone in locale.zones[0]
        }
        self.rules_json: dict[tuple[str, ...], str] = {}
        self.batch = Batch()
        self.payments_made = 0

    # Cheaper than Random.randrange/choice, and as deterministic.
    def below(self, n: int) -> int:
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def choice(self, options: Sequence[T]) -> T:
        return options[int(self.random() * len(options))]

    def pick(self, weighted: Weighted[T]) -> T:
        options, cumulative = weighted
        return options[bisect_right(cumulative, self.random() * cumulative[-1])]

    def uuid(self, ordinal: int, table: int, row: int) -> UUID:
        """salt(16) ordinal(32) version 8(4) table(4) row(8) variant(2) random(62)."""
        value = (self.uuid_salt << 112) | ((ordinal & 0xFFFFFFFF) << 80) | (0x8 << 76)
        return UUID(int=value | (table << 72) | (row << 64) | (0b10 << 62) | self.bits(62))

    def run(self, count: int) -> Batch:
        start = self.start
        debtor_id, left = start.debtor_id - 1, 0
        debtor: _Debtor | None = None
        for i in range(count):
            if debtor is None or left == 0:
                debtor_id, left = debtor_id + 1, 2 if self.random() < 0.03 else 1
                debtor = self.debtor(debtor_id, start.ordinal + i)
            left -= 1
            self.account(start.account_id + i, start.ordinal + i, debtor_id, debtor)
        return self.batch

    def debtor(self, debtor_id: int, ordinal: int) -> _Debtor:
        locale = self.pick(cat.LOCALES)
        zone = self.pick(locale.zones)
        first, last = self.choice(locale.first_names), self.choice(locale.last_names)
        if locale.code == "zh-CN":  # 王伟, wei.wang
            f, la = _hanzi(first), _hanzi(last)
            name, mailbox = last[:la] + first[:f], f"{first[f:]}.{last[la:]}"
        else:
            name, mailbox = f"{first} {last}", f"{first}.{last}".lower()
        email = f"{mailbox}{self.between(10, 99)}@example.{self.choice(('com', 'net', 'org'))}"
        created = _ts(self.now_s - self.between(210 * DAY, 600 * DAY))  # before any due date
        self.batch.debtors.append(
            (self.tenant, debtor_id, f"DEMO-C{ordinal + 1:08d}", name,
             None if self.random() < 0.10 else zone, locale.code, created, created)
        )  # fmt: skip
        return _Debtor(locale, zone, email)

    def phone(self, debtor: _Debtor) -> str:
        if debtor.locale.code == "zh-CN":
            return f"+86{self.choice(cat.CN_MOBILE)}{self.below(10**8):08d}"
        if debtor.locale.code == "en-US":
            return f"+1{self.choice(cat.US_AREA_CODES[debtor.zone])}5550{self.between(100, 199)}"
        return f"+447700900{self.below(1000):03d}"

    def account(self, account_id: int, ordinal: int, debtor_id: int, debtor: _Debtor) -> None:
        now_s, locale = self.now_s, debtor.locale
        self.payments_made = 0
        status = self.pick(cat.STATUSES)
        delinquent = status == "delinquent"
        dpd = self.between(*self.pick(cat.DPD_BUCKETS))
        due_date = self.today - timedelta(days=dpd)
        started_s = _seconds(due_date) + self.between(3_600, 36_000)
        if started_s > now_s:
            started_s = now_s - self.between(60, 3_600)

        # Stage: where the days past due put the account, mostly one step behind.
        natural = bisect_right(cat.STAGE_FROM_DPD, dpd) - 1
        stage = natural - 1 if natural > 0 and self.random() < 0.6 else natural
        entered_day = self.between(min(max(0, cat.STAGE_FROM_DPD[stage] - 1), dpd), dpd)
        entered_s = min(now_s, started_s + entered_day * DAY + self.below(DAY))

        phones = self.contacts(account_id, ordinal, debtor, _ts(started_s - 600))
        n_calls = self.choice((0, 0, 0, 1, 1, 2) if stage == 0 else (1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
        principal = self.between(1_000, 50_000) * 100
        owed = max(10_000, int(principal * (0.4 + 0.6 * self.random())) // 100 * 100)
        offset = self.offsets[debtor.zone]
        calls = self.calls(account_id, ordinal, phones, started_s, offset, n_calls, owed)
        paid, promises = self.promises(account_id, ordinal, calls, owed, delinquent)
        balance = owed - paid
        if status in ("cured", "closed"):
            self.payment(account_id, ordinal, balance, self.between(entered_s, now_s))
            balance = 0
        elif delinquent and not promises and self.random() < 0.12:
            for _ in range(1 + (self.random() < 0.3)):
                amount = max(100, int(balance * (0.05 + 0.25 * self.random())))
                self.payment(account_id, ordinal, amount, self.between(started_s, now_s))
                balance -= amount
        if delinquent and self.random() < 0.03:
            hardship = self.random() < 0.6
            self.batch.holds.append(
                (self.tenant, self.uuid(ordinal, 5, 0), account_id,
                 "hardship" if hardship else "dispute",
                 _ts(now_s + self.between(7, 30) * DAY) if hardship else None,
                 "demo: short-term hardship" if hardship else "demo: disputes the amount",
                 _ts(self.between(started_s, now_s)))
            )  # fmt: skip

        reason = next((c.reason for c in reversed(calls) if c.reason is not None), None)
        tier, score, rules = cat.tier(
            [c.outcome for c in calls], reason, promises, (now_s - started_s) // DAY
        )
        verification = None
        if reason is not None:
            verification = "verified" if self.random() < 0.2 else "claimed"
        late = stage >= 3
        partner = self.choice(cat.PARTNERS) if self.random() < (0.55 if late else 0.22) else None
        started, entered = _ts(started_s), _ts(entered_s)
        next_s = now_s + self.below(DAY)
        self.batch.accounts.append(
            (self.tenant, account_id, f"DEMO-{ordinal + 1:08d}", debtor_id, status,
             locale.currency, principal, balance, due_date, self.choice(cat.PRODUCTS),
             locale.jurisdiction, partner, f"team-{self.between(1, 6)}" if late else None, tier,
             self.json(rules), cat.STAGES[stage] if delinquent else None,
             entered if delinquent else None, reason, verification, 1, started, score, started,
             _ts(max(entered_s, calls[-1].at)) if calls else entered)
        )  # fmt: skip
        if delinquent:
            # Due within a day and never evaluated here (no evaluated_at): the evaluator's
            # first pass tiers every account and computes its dialer tasks.
            self.batch.evaluation_schedule.append((self.tenant, account_id, _ts(next_s)))

    def contacts(
        self, account_id: int, ordinal: int, debtor: _Debtor, created: datetime
    ) -> list[_Phone]:
        """The debtor's own phone, often an e-mail, and one or two references' phones."""
        own = self.phone(debtor)
        specs = [("phone", own, "self", "mobile", self.random() < 0.02)]
        if self.random() < 0.6:
            specs.append(("email", debtor.email, "self", "personal", False))
        values = {own}
        for _ in range(1 + (self.random() < 0.4)):
            relationship, labels = self.pick(cat.REFERENCES)
            value = self.phone(debtor)
            while value in values:
                value = self.phone(debtor)
            values.add(value)
            specs.append(("phone", value, relationship, self.choice(labels), self.random() < 0.05))
        phones = []
        for n, (kind, value, relationship, label, wrong) in enumerate(specs):
            contact_id, status = self.uuid(ordinal, 1, n), "wrong_number" if wrong else "active"
            self.batch.contacts.append(
                (self.tenant, contact_id, account_id, kind, value, relationship, label, status,
                 created, created)
            )  # fmt: skip
            if kind == "phone":
                phones.append(_Phone(contact_id, relationship == "self", status))
        return phones

    def calls(
        self,
        account_id: int,
        ordinal: int,
        phones: list[_Phone],
        started_s: int,
        offset: int,
        n: int,
        owed: int,
    ) -> list[_Call]:
        """Outbound calls between 09:00 and 20:00 local where the episode allows; the first
        (the reminder) to the debtor, later ones now and then to a reference."""
        now_s, moments, remaining = self.now_s, [], owed
        for _ in range(n):
            at = self.between(started_s, now_s)
            local = at + offset
            if not 9 * 3600 <= local % DAY < 20 * 3600:
                daytime = local - local % DAY + 9 * 3600 + self.below(11 * 3600) - offset
                daytime -= DAY if daytime > now_s else 0
                at = daytime if daytime >= started_s else at
            moments.append(at)
        moments.sort()
        own, references = phones[0], phones[1:]
        wrong_called: set[UUID] = set()
        calls = []
        for k, at in enumerate(moments):
            phone = self.choice(references) if k >= 2 and self.random() < 0.25 else own
            if phone.status == "wrong_number" and phone.id in wrong_called:
                phone = own
            if phone.status == "wrong_number":
                wrong_called.add(phone.id)
                outcome = "wrong_number"
            else:
                outcome = self.pick(cat.SELF_OUTCOMES if phone.own else cat.THIRD_PARTY_OUTCOMES)
            talked = outcome in cat.TALKED and self.random() < 0.5
            reason = self.pick(cat.REASONS) if talked else None
            promise, callback = None, None
            if outcome == "promise_to_pay":
                amount = max(100, int(remaining * self.choice((0.2, 0.3, 0.5))) // 100 * 100)
                remaining -= amount  # so that all promises kept never pay more than is owed
                promise = (amount, _ts(at).date() + timedelta(days=self.between(1, 14)))
            elif outcome == "callback_requested":
                callback = _ts(at + self.between(2, 48) * 3600)
            interaction_id, occurred = self.uuid(ordinal, 2, k), _ts(at)
            self.batch.interactions.append(
                (self.tenant, interaction_id, account_id, phone.id, "call", "outbound", occurred,
                 outcome, reason, f"agent-{self.between(1, 40):02d}",
                 promise[0] if promise else None, promise[1] if promise else None, callback,
                 "[]", hashlib.sha256(interaction_id.bytes).digest(), cat.RECORDED_BY, occurred)
            )  # fmt: skip
            calls.append(_Call(interaction_id, at, outcome, reason, promise))
        return calls

    def promises(
        self, account_id: int, ordinal: int, calls: list[_Call], owed: int, delinquent: bool
    ) -> tuple[int, list[str]]:
        """A promise per promise_to_pay call, its payment if kept: (paid, statuses).
        A newer promise cancels a pending one, so at most one stays pending."""
        made = [(c.id, c.at, c.promise) for c in calls if c.promise is not None]
        paid_total, states = 0, []
        for n, (interaction_id, created_s, (amount, due)) in enumerate(made):
            window_end = min(self.now_s, _seconds(due + timedelta(days=GRACE_DAYS + 1)))
            following = made[n + 1][1] if n + 1 < len(made) else None
            paid, resolved = 0, None
            if following is not None and following <= window_end:
                status, resolved = "cancelled", following
            elif due + timedelta(days=GRACE_DAYS) >= self.today:  # its window is still open
                status = "kept" if self.random() < 0.25 else "pending"
                if status == "pending" and not delinquent:  # the account left the ladder
                    status, resolved = "cancelled", self.between(created_s, self.now_s)
            else:
                status, resolved = self.pick(cat.RESOLUTIONS), window_end
            if status == "kept":
                paid = amount
                resolved = self.between(created_s, max(created_s, window_end))
            elif status == "partially_kept":  # paid short on or after the due date
                paid = max(100, int(amount * (0.3 + 0.5 * self.random())))
                resolved = self.between(min(_seconds(due), window_end), window_end)
            if paid:
                self.payment(account_id, ordinal, paid, resolved or created_s)
            paid_total += paid
            states.append(status)
            self.batch.promises.append(
                (self.tenant, self.uuid(ordinal, 3, n), account_id, 1, interaction_id, amount,
                 due, _ts(created_s), status, paid, None if resolved is None else _ts(resolved))
            )  # fmt: skip
        return paid_total, states

    def payment(self, account_id: int, ordinal: int, amount: int, at: int) -> None:
        n, self.payments_made = self.payments_made, self.payments_made + 1
        occurred = _ts(at)
        self.batch.payments.append(
            (self.tenant, self.uuid(ordinal, 4, n), account_id,
             f"DEMO-PAY-{ordinal + 1:08d}-{n + 1}", amount, occurred, occurred)
        )  # fmt: skip

    def json(self, rules: tuple[str, ...]) -> str:
        if (cached := self.rules_json.get(rules)) is None:
            cached = self.rules_json[rules] = json.dumps(list(rules))
        return cached


def _hanzi(name: str) -> int:
    """How many characters of "秀英xiuying" are hanzi."""
    return next((i for i, ch in enumerate(name) if ch.isascii()), len(name))
