"""How a page of changes is cut into parts written in parallel."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toolkit.work.replay_turns import page_parts


@given(st.integers(0, 1200), st.integers(1, 16), st.sampled_from([1, 25, 100]))
def test_parts_are_whole_batches_covering_the_page_once(
    count: int, parts_at_most: int, batch: int
) -> None:
    requests = [{"PutRequest": {"Item": {"id": {"N": str(n)}}}} for n in range(count)]
    parts = page_parts(requests, parts_at_most, batch)
    assert [r for part in parts for r in part] == requests
    assert len(parts) <= parts_at_most  # never more parallel writers than allowed
    assert all(len(part) % batch == 0 for part in parts[:-1])
    if count <= batch:
        assert parts == [requests]
    else:  # as even as whole batches allow: no part is more than a batch above the mean
        assert max(len(part) for part in parts) < count / len(parts) + batch
