import gc
from collections.abc import Iterator

import pytest

from app.memory import YOUNG_GENERATION_THRESHOLD, tune_garbage_collection


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    gc.unfreeze()
    kept = [[] for _ in range(1000)]  # container objects that live as long as the process
    tune_garbage_collection()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD
