"""Which operation comes next: a put on any key, or a delete of a live key.

Pure logic: no I/O. A put picks a key uniformly from the whole space (it creates
the item or overwrites it); a delete picks a live key uniformly, so it always
removes an item. With a fraction p of puts, the live fraction a settles where
births equal deaths, p x (1 - a) = 1 - p, that is a = (2p - 1) / p: the default
p = 3/4 keeps about two thirds of the keys alive. With no live key, a put it is.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass

from mutator.keys import LiveKeys

PUT, DELETE = "put", "delete"
DEFAULT_PUT_FRACTION = 0.75


def settled_live_fraction(put_fraction: float) -> float:
    """Where the live fraction settles for a put fraction (0 when deletes win)."""
    if put_fraction <= 0.5:
        return 0.0
    return (2 * put_fraction - 1) / put_fraction


@dataclass(frozen=True)
class Operation:
    seq: int  # the operation's number in the run, from 0
    kind: str  # PUT or DELETE
    index: int  # the key's index in the key space
    body_seed: int  # seeds the put's item body (0 for deletes)
    table: int = 0  # the table's place in the run's list of tables


class OperationMix:
    """The run's operations, one after the other; the same seed gives the same list."""

    def __init__(self, live: LiveKeys, put_fraction: float, rng: random.Random) -> None:
        if not 0.0 <= put_fraction <= 1.0:
            raise ValueError("the put fraction is within 0..1")
        self.live = live
        self._put_fraction = put_fraction
        self._rng = rng
        self._seq = 0

    def next(self) -> Operation:
        rng = self._rng
        if not self.live or rng.random() < self._put_fraction:
            index = rng.randrange(self.live.size)
            self.live.add(index)
            operation = Operation(self._seq, PUT, index, rng.getrandbits(64))
        else:
            index = self.live.pick(rng)
            self.live.remove(index)
            operation = Operation(self._seq, DELETE, index, 0)
        self._seq += 1
        return operation


class SpreadMix:
    """The operations of a run over several tables, each with its own key space.

    Each operation goes to a table drawn uniformly (``choice``), whose own mix then
    picks it; the mixes share ``rng``, so with one table there is no draw and the
    operations are exactly those of ``OperationMix`` alone. ``seq`` counts the run's
    operations over all tables.
    """

    def __init__(
        self,
        lives: Sequence[LiveKeys],
        put_fraction: float,
        rng: random.Random,
        choice: random.Random,
    ) -> None:
        if not lives:
            raise ValueError("a run writes to one table at least")
        self.mixes = [OperationMix(live, put_fraction, rng) for live in lives]
        self._choice = choice
        self._seq = 0

    def next(self) -> Operation:
        table = self._choice.randrange(len(self.mixes)) if len(self.mixes) > 1 else 0
        operation = dataclasses.replace(self.mixes[table].next(), seq=self._seq, table=table)
        self._seq += 1
        return operation
