"""Item bodies of every attribute type, nested maps and lists, sizes within bounds.

Pure logic: no I/O. An item's size (DynamoDB's rule, ``toolkit.logic.items.item_size``)
is drawn log-uniformly between the bounds, so small and large items both appear;
a random set of typed attributes that fits is added, and a padding attribute (S or
B) brings the item to exactly that size. Every value is one DynamoDB accepts: numbers of at
most 38 digits within 1E-130..9.99E+125, non-empty distinct set members, valid UTF-8.
"""

from __future__ import annotations

import base64
import bisect
import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from toolkit.logic.items import AttributeValue, Item, Key, item_size

MAX_ITEM_BYTES = 400 * 1024
PAD_NAME = "payload"
MAX_DEPTH = 3  # levels of maps and lists inside a top-level attribute
TEMPLATES = 1024  # sets of typed attributes to pick from
_CHARACTERS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.")
_CHARACTERS += list("éßøДж日本語🙂🚀")  # 2, 3 and 4 UTF-8 bytes: sizes count bytes


@dataclass(frozen=True)
class SizeBounds:
    min_bytes: int
    max_bytes: int

    def __post_init__(self) -> None:
        if not 1 <= self.min_bytes <= self.max_bytes <= MAX_ITEM_BYTES:
            raise ValueError(f"need 1 <= min <= max <= {MAX_ITEM_BYTES} bytes, got {self}")


def smallest_item(key: Key) -> int:
    """The fewest bytes an item with this key takes here: the key and a 1-byte padding."""
    return item_size(key) + len(_pad_name(key)) + 1


@dataclass(frozen=True)
class _Template:
    """Typed attributes ready to go into items: (name, value, bytes with the name)."""

    size: int
    attributes: tuple[tuple[str, AttributeValue, int], ...]


class BodyGenerator:
    """Items of sizes within the bounds, built from templates made once from the seed.

    An item takes a random template among those that fit its drawn size, then a
    padding: a few random draws per item, so bulk loads stay fast. Items share the
    templates' value objects; nothing here modifies them.
    """

    def __init__(self, bounds: SizeBounds, seed: int = 0) -> None:
        self.bounds = bounds
        self._sizes, self._templates = _templates(seed)

    def item(self, key: Key, rng: random.Random) -> Item:
        """An item with this key, of a size drawn within the bounds (never below the key's)."""
        pad_name = _pad_name(key)
        size = item_size(key)
        target = self._size(rng, size + len(pad_name) + 1)
        fitting = bisect.bisect_right(self._sizes, target - size - len(pad_name) - 1)
        template = self._templates[rng.randrange(fitting)]  # the first one is empty
        item: Item = dict(key)
        for name, value, taken in template.attributes:
            if name not in key:
                item[name] = value
                size += taken
        item[pad_name] = _padding(rng, target - size - len(pad_name))
        return item

    def _size(self, rng: random.Random, floor: int) -> int:
        low = max(self.bounds.min_bytes, floor)
        high = max(self.bounds.max_bytes, low)
        return min(high, round(math.exp(rng.uniform(math.log(low), math.log(high)))))


@functools.lru_cache(maxsize=4)
def _templates(seed: int) -> tuple[list[int], tuple[_Template, ...]]:
    """TEMPLATES random templates and an empty one, by size, with their sizes."""
    rng = random.Random(f"{seed}:bodies")
    made = sorted(
        [_Template(0, ()), *(_template(rng) for _ in range(TEMPLATES))], key=lambda t: t.size
    )
    return [t.size for t in made], tuple(made)


def _template(rng: random.Random) -> _Template:
    attributes = []
    for name, make in rng.sample(_ATTRIBUTES, len(_ATTRIBUTES)):
        if rng.random() < 0.5:
            value = make(rng, MAX_DEPTH)
            attributes.append((name, value, len(name.encode()) + item_size({"": value})))
    return _Template(sum(a[2] for a in attributes), tuple(attributes))


def _pad_name(key: Key) -> str:
    name = PAD_NAME
    while name in key:
        name += "_"
    return name


def _padding(rng: random.Random, size: int) -> AttributeValue:
    """``size`` bytes (at least 1) of random content, as S (ASCII) or B."""
    if rng.random() < 0.5:
        return {"B": base64.b64encode(rng.randbytes(size)).decode()}
    text = base64.b64encode(rng.randbytes(size * 3 // 4 + 3)).decode()
    return {"S": text[:size]}


# --- values ---------------------------------------------------------------------------


def _text(rng: random.Random, longest: int = 16) -> str:
    return "".join(rng.choices(_CHARACTERS, k=rng.randint(1, longest)))


def _number_text(rng: random.Random) -> str:
    form = rng.randrange(5)
    sign = rng.choice(("", "-"))
    if form == 0:
        return str(rng.randint(-(10**6), 10**6))
    if form == 1:
        return f"{sign}{rng.randint(0, 10**9)}.{rng.randint(0, 999):03d}"
    if form == 2:  # 38 significant digits, the most DynamoDB keeps
        return f"{sign}{rng.randint(10**37, 10**38 - 1)}"
    if form == 3:  # far from 1, either way
        return f"{sign}{rng.randint(1, 9)}.{rng.randint(0, 99):02d}E{rng.randint(-129, 125)}"
    return "0"


def _string(rng: random.Random, depth: int) -> AttributeValue:
    return {"S": _text(rng, 24)}


def _number(rng: random.Random, depth: int) -> AttributeValue:
    return {"N": _number_text(rng)}


def _binary(rng: random.Random, depth: int) -> AttributeValue:
    return {"B": base64.b64encode(rng.randbytes(rng.randint(1, 16))).decode()}


def _boolean(rng: random.Random, depth: int) -> AttributeValue:
    return {"BOOL": rng.random() < 0.5}


def _null(rng: random.Random, depth: int) -> AttributeValue:
    return {"NULL": True}


def _string_set(rng: random.Random, depth: int) -> AttributeValue:
    return {"SS": sorted({_text(rng, 8) for _ in range(rng.randint(1, 4))})}


def _number_set(rng: random.Random, depth: int) -> AttributeValue:
    by_value = {Decimal(n): n for n in (_number_text(rng) for _ in range(rng.randint(1, 4)))}
    return {"NS": list(by_value.values())}


def _binary_set(rng: random.Random, depth: int) -> AttributeValue:
    members = {rng.randbytes(rng.randint(1, 8)) for _ in range(rng.randint(1, 4))}
    return {"BS": [base64.b64encode(m).decode() for m in sorted(members)]}


def _list(rng: random.Random, depth: int) -> AttributeValue:
    return {"L": [_any(rng, depth - 1) for _ in range(rng.randint(0, 4))]}


def _map(rng: random.Random, depth: int) -> AttributeValue:
    return {"M": {_text(rng, 6): _any(rng, depth - 1) for _ in range(rng.randint(0, 4))}}


def _any(rng: random.Random, depth: int) -> AttributeValue:
    makers = _SCALARS if depth <= 1 else _SCALARS + _NESTED
    return rng.choice(makers)(rng, depth)


Maker = Callable[[random.Random, int], AttributeValue]
_SCALARS: list[Maker] = [_string, _number, _binary, _boolean, _null]
_SCALARS += [_string_set, _number_set, _binary_set]
_NESTED: list[Maker] = [_list, _map]
_ATTRIBUTES: list[tuple[str, Maker]] = [
    *[("name", _string), ("count", _number), ("blob", _binary), ("active", _boolean)],
    *[("nothing", _null), ("tags", _string_set), ("scores", _number_set)],
    *[("chunks", _binary_set), ("history", _list), ("profile", _map)],
]
