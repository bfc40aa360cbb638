"""The dialer's Prometheus counters move with committed claims, refusals and outcomes."""

import httpx

from app import metrics
from tests.conftest import KeyMaker
from tests.dialer.helpers import Dialer

LATER = "2026-12-01T02:10:00+00:00"  # a 300 s lease from MORNING has expired


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_claims_blocks_and_outcomes_are_counted(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    leased = sample("tactful_dialer_tasks_leased_total")
    stale = sample("tactful_dialer_outcomes_total", lease="stale")
    live = sample("tactful_dialer_outcomes_total", lease="live")
    box = await Dialer.start(client, make_key)
    await box.open_account()
    (first,) = await box.claim(lease_seconds=300)
    assert sample("tactful_dialer_tasks_leased_total") == leased + 1
    await box.set_clock(LATER)
    (second,) = await box.claim(lease_seconds=300)
    assert sample("tactful_dialer_tasks_leased_total") == leased + 2

    assert (await box.outcome(first["task_id"], at=LATER)).status_code == 201
    assert sample("tactful_dialer_outcomes_total", lease="stale") == stale + 1
    assert (await box.outcome(second["task_id"], at=LATER)).status_code == 201
    assert sample("tactful_dialer_outcomes_total", lease="live") == live + 1
    refused = await box.outcome(second["task_id"], at=LATER)  # rolled back: counts nothing
    assert refused.status_code == 409
    assert sample("tactful_dialer_outcomes_total", lease="live") == live + 1


async def test_a_claim_time_refusal_is_counted_under_its_rule(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    blocked = sample("tactful_dialer_claim_blocks_total", rule="calling_window")
    leased = sample("tactful_dialer_tasks_leased_total")
    # 21:30 in Shanghai: an hour's lease would outlast the calling window.
    box = await Dialer.start(client, make_key, at="2026-12-01T13:30:00+00:00")
    await box.open_account()
    assert await box.claim(lease_seconds=3600) == []
    assert sample("tactful_dialer_claim_blocks_total", rule="calling_window") == blocked + 1
    assert sample("tactful_dialer_tasks_leased_total") == leased
    text_ = (await client.get("/metrics")).text
    assert 'tactful_dialer_claim_blocks_total{rule="calling_window"}' in text_
