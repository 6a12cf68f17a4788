"""A fixed space of N keys, deterministic from the index, for any key schema.

Pure logic: no I/O. Key ``i`` always maps to the same key values whatever N is, so
``--load 5000`` and ``mutate --keys 10000`` share keys 0..4999. With a range key,
``RANGE_GROUP`` consecutive indexes share a partition key (versions of one id).

Values per key type (j is the part's number):
  S: "key-000042" (hash) or "v000002" (range), six digits at least;
  N: "42" (as DynamoDB stores it, so a scan returns the same text);
  B: j as 8 big-endian bytes, base64.
"""

from __future__ import annotations

import base64
import binascii
import random
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from toolkit.logic.items import AttributeValue, Key
from toolkit.logic.table_schema import KeyAttribute

RANGE_GROUP = 4
_PREFIX = {"HASH": "key-", "RANGE": "v"}
_B_BYTES = 8
MAX_KEYS = 2**31 - 1


def encode(kind: str, role: str, number: int) -> AttributeValue:
    if kind == "S":
        return {"S": f"{_PREFIX[role]}{number:06d}"}
    if kind == "N":
        return {"N": str(number)}
    if kind == "B":
        return {"B": base64.b64encode(number.to_bytes(_B_BYTES, "big")).decode()}
    raise ValueError(f"key attributes are S, N or B, not {kind}")


def decode(kind: str, role: str, value: AttributeValue) -> int | None:
    """The part's number, or None when the value is not one this space makes."""
    payload = value.get(kind)
    if not isinstance(payload, str):
        return None
    text = payload
    if kind == "S":
        if not text.startswith(_PREFIX[role]):
            return None
        text = text[len(_PREFIX[role]) :]
    elif kind == "B":
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return None
        text = str(int.from_bytes(raw, "big")) if len(raw) == _B_BYTES else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if encode(kind, role, number) == value else None


class KeySpace:
    """Keys 0..size-1 of a table with these key parts (hash first)."""

    def __init__(self, parts: Sequence[KeyAttribute], size: int) -> None:
        if not 1 <= len(parts) <= 2 or parts[0].role != "HASH":
            raise ValueError("a key schema is a hash key, optionally followed by a range key")
        if not 1 <= size <= MAX_KEYS:
            raise ValueError(f"a key space holds 1 to {MAX_KEYS} keys")
        self.parts = tuple(parts)
        self.size = size

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(part.name for part in self.parts)

    def key(self, index: int) -> Key:
        if not 0 <= index < self.size:
            raise IndexError(f"key index {index} outside 0..{self.size - 1}")
        return {part.name: encode(part.type, part.role, n) for part, n in self._numbers(index)}

    def index_of(self, key: Key) -> int | None:
        """The index of a key of this space, or None (another key, or beyond the space)."""
        numbers = []
        for part in self.parts:
            value = key.get(part.name)
            number = decode(part.type, part.role, value) if isinstance(value, dict) else None
            if number is None:
                return None
            numbers.append(number)
        if len(numbers) == 2:
            if numbers[1] >= RANGE_GROUP:
                return None
            index = numbers[0] * RANGE_GROUP + numbers[1]
        else:
            index = numbers[0]
        return index if index < self.size else None

    def _numbers(self, index: int) -> list[tuple[KeyAttribute, int]]:
        if len(self.parts) == 1:
            return [(self.parts[0], index)]
        hash_part, range_part = self.parts
        return [(hash_part, index // RANGE_GROUP), (range_part, index % RANGE_GROUP)]


class LiveKeys:
    """Which indexes hold an item: add, remove and a uniform random pick, all O(1)."""

    def __init__(self, size: int, live: Iterable[int] = ()) -> None:
        self.size = size
        self._position = array("i", [-1]) * size
        self._members: list[int] = []
        for index in live:
            self.add(index)

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, index: int) -> bool:
        return self._position[index] >= 0

    def add(self, index: int) -> None:
        if self._position[index] < 0:
            self._position[index] = len(self._members)
            self._members.append(index)

    def remove(self, index: int) -> None:
        at = self._position[index]
        if at < 0:
            return
        last = self._members.pop()
        if last != index:
            self._members[at] = last
            self._position[last] = at
        self._position[index] = -1

    def pick(self, rng: random.Random) -> int:
        return self._members[rng.randrange(len(self._members))]


@dataclass(frozen=True)
class TableKeys:
    """One table of a run: its name, its key space and which of its keys are live."""

    name: str
    space: KeySpace
    live: LiveKeys
