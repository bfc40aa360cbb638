"""Queue priority: higher is called first. Pure: tier, stage, days past due, balance and
purpose in, one integer out. Purpose dominates (a confirmation or a promise reminder is due
on a given day), then the stage's urgency, the tier, and within those lateness and size."""

PURPOSE_WEIGHT = {
    "payment_confirmation": 400,
    "promise_reminder": 400,
    "collect": 300,
    "reminder": 300,
    "relay_request": 200,
    "location_inquiry": 200,
}
STAGE_WEIGHT = {
    "reminder": 60,
    "early": 50,
    "network": 40,
    "reassigned": 30,
    "formal_notice": 20,
    "external": 10,
}
# A is the most likely to pay after a call, C the least (policy.md: tier sets priority).
TIER_WEIGHT = {"A": 30, "B": 20, "C": 10}
MAX_LATENESS_POINTS = 9
MAX_SIZE_POINTS = 9


def lateness_points(days_past_due: int) -> int:
    """A point per ten days late: the only part of a priority that moves with the calendar."""
    return min(max(days_past_due, 0) // 10, MAX_LATENESS_POINTS)


def task_priority(
    *, purpose: str, stage: str | None, tier: str | None, days_past_due: int, balance: int
) -> int:
    lateness = lateness_points(days_past_due)
    size = min(len(str(max(balance, 0))) - 1, MAX_SIZE_POINTS)  # order of magnitude
    return (
        PURPOSE_WEIGHT[purpose]
        + STAGE_WEIGHT.get(stage or "", 0)
        + TIER_WEIGHT.get(tier or "B", 20)
        + lateness
        + size
    )
