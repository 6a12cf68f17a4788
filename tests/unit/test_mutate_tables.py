"""A mutation over several tables: which table each operation goes to, each table's
own key space, and the counts per table and in total (pure parts, no I/O)."""

from __future__ import annotations

import random
from collections import Counter as Count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutator.keys import LiveKeys
from mutator.mix import DELETE, PUT, OperationMix, SpreadMix
from mutator.stats import Counters, TableCounters, Tally, mutate_summary, table_line

tallies = st.builds(
    Tally,
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.integers(0, 50),
    st.lists(st.tuples(st.sampled_from(["Busy", "Throttled", "X"]), st.integers(1, 9)))
    .map(dict)
    .map(lambda codes: tuple(sorted(codes.items()))),
)


@given(seed=st.integers(0, 2**32), fraction=st.floats(0, 1))
def test_one_table_gets_the_same_operations_as_before(seed: int, fraction: float) -> None:
    alone = OperationMix(LiveKeys(100), fraction, random.Random(seed))
    spread = SpreadMix([LiveKeys(100)], fraction, random.Random(seed), random.Random(seed + 1))
    assert [spread.next() for _ in range(300)] == [alone.next() for _ in range(300)]


@settings(max_examples=20, deadline=None)
@given(tables=st.integers(2, 6), seed=st.integers(0, 2**32))
def test_each_table_gets_an_even_share(tables: int, seed: int) -> None:
    mix = SpreadMix(
        [LiveKeys(50) for _ in range(tables)], 0.75, random.Random(seed), random.Random(~seed)
    )
    operations = 6000
    shares = Count(mix.next().table for _ in range(operations))
    assert set(shares) == set(range(tables))
    # about 7 standard deviations at 2 tables: a uniform draw never misses it
    for count in shares.values():
        assert count / operations == pytest.approx(1 / tables, abs=0.04)


@settings(max_examples=40)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    fraction=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_each_table_has_its_own_key_space(sizes: list[int], fraction: float, seed: int) -> None:
    lives = [LiveKeys(size) for size in sizes]
    models: list[set[int]] = [set() for _ in sizes]
    mix = SpreadMix(lives, fraction, random.Random(seed), random.Random(seed ^ 0x5F))
    for seq in range(400):
        operation = mix.next()
        model = models[operation.table]
        assert operation.seq == seq  # numbered over the run, not per table
        assert 0 <= operation.index < sizes[operation.table]
        if operation.kind == DELETE:
            assert operation.index in model  # a live key of its own table
            model.discard(operation.index)
        else:
            assert operation.kind == PUT
            model.add(operation.index)
        assert [len(live) for live in lives] == [len(m) for m in models]


def test_a_run_needs_a_table() -> None:
    with pytest.raises(ValueError, match="one table at least"):
        SpreadMix([], 0.75, random.Random(1), random.Random(2))


@given(tallies, tallies)
def test_a_sum_of_tallies_undoes_a_difference(a: Tally, b: Tally) -> None:
    total = a + b
    assert total.operations == a.operations + b.operations
    assert total - b == a


def test_the_total_is_the_sum_of_the_tables() -> None:
    counters = TableCounters(3)
    for table, (kind, times) in enumerate([(PUT, 4), (DELETE, 2), (PUT, 1)]):
        for _ in range(times):
            counters.tables[table].acknowledged(kind)
    counters.tables[1].retried("Busy")
    counters.tables[2].retried("Busy")
    assert counters.snapshot() == Tally(5, 2, 2, (("Busy", 2),))
    assert [c.snapshot().operations for c in counters.tables] == [4, 2, 1]
    assert isinstance(counters.tables[0], Counters)


def test_the_report_lines_of_several_tables() -> None:
    line = table_line("orders", Tally(30, 10, 1, (("Busy", 1),)), 20, 100)
    assert line == (
        "Table orders: 40 operations (30 puts, 10 deletes); 1 errors retried (1 Busy); "
        "20 of 100 keys live"
    )
    summary = mutate_summary("done", Tally(90, 30), 3.0, 60, 300, 0, tables=3)
    assert summary.startswith("Mutate done: 120 operations (90 puts, 30 deletes) in 3.0 s")
    assert summary.endswith("60 of 300 keys live in 3 tables")
    assert mutate_summary("done", Tally(90, 30), 3.0, 60, 300, 0).endswith("300 keys live")
