"""A run's budget shared out among its tables: pure arithmetic, property-tested."""

from __future__ import annotations

from collections.abc import Sequence

FLOOR = 0.01  # a table's weight is at least this fraction of the mean: an empty one moves too


def shares(total: int, weights: Sequence[int]) -> list[int]:
    """Whole units per table, in proportion to its weight (its remaining size), so that
    tables finish together and a small one never waits behind a big one. Their sum is
    at most ``total``; each gets at least 1 while ``total`` has a unit for each."""
    if not weights:
        return []
    mean = sum(weights) / len(weights)
    floored = [max(float(w), FLOOR * mean, 1e-9) for w in weights]
    whole = sum(floored)
    cut = [int(total * w / whole) for w in floored]
    if total < len(weights):
        return cut
    short = [i for i, units in enumerate(cut) if units == 0]
    for i in short:  # from the biggest share: the sum stays within the total
        cut[i] = 1
        cut[max(range(len(cut)), key=cut.__getitem__)] -= 1
    return cut
