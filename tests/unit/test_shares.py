"""The budget shared out among a run's tables (toolkit.logic.shares)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from toolkit.logic.shares import shares

WEIGHTS = st.lists(st.integers(0, 10**12), min_size=1, max_size=60)


@given(st.integers(1, 10**9), WEIGHTS)
def test_the_shares_never_exceed_the_budget(total: int, weights: list[int]) -> None:
    assert sum(shares(total, weights)) <= total


@given(st.integers(1, 10**9), WEIGHTS)
def test_every_table_moves_when_the_budget_has_a_unit_for_each(
    total: int, weights: list[int]
) -> None:
    got = shares(total, weights)
    assert len(got) == len(weights)
    if total >= len(weights):
        assert min(got) >= 1


@given(st.integers(1000, 10**9), WEIGHTS)
def test_a_bigger_table_never_gets_less(total: int, weights: list[int]) -> None:
    got = shares(total, weights)
    pairs = sorted(zip(weights, got, strict=True))
    # within one unit: the floors taken from the biggest may cost it one
    assert all(a[1] <= b[1] + 1 for a, b in pairwise(pairs))


def test_shares_follow_the_remaining_sizes() -> None:
    assert shares(1000, [300, 100, 600]) == [300, 100, 600]
    assert shares(100, [0, 0]) == [50, 50]
    assert shares(10, [10**9, 0])[1] >= 1
