"""Hypothesis strategies for DynamoDB items in wire form, covering every type.

Data only: nothing here talks to a server. The limits are DynamoDB's documented ones,
and the checks at the end hold the strategies to them:
numbers of up to 38 significant digits with magnitudes from 1E-130 to
9.9999999999999999999999999999999999999E+125, non-empty sets of distinct members,
values nested up to 32 levels (a top-level attribute is level 1), key strings and
binaries non-empty and at most 2048 bytes (partition key) or 1024 bytes (sort key).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Hashable
from decimal import Context, Decimal
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from toolkit.logic.items import AttributeValue, Item, Key, item_size

if TYPE_CHECKING:
    from typing import TypeAlias

    from mypy_boto3_dynamodb.literals import KeyTypeType, ScalarAttributeTypeType
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        KeySchemaElementTypeDef,
    )

    # (KeySchema, AttributeDefinitions) as CreateTable takes them
    TableKeys: TypeAlias = tuple[list[KeySchemaElementTypeDef], list[AttributeDefinitionTypeDef]]

MAX_DEPTH = 32
MAX_DIGITS = 38
# exponent of the leading digit: 1E-130 is the smallest magnitude, 9.99..E+125 the largest
MIN_EXPONENT, MAX_EXPONENT = -130, 125
MAX_ITEM_BYTES = 400 * 1024
HASH_KEY_MAX_BYTES, RANGE_KEY_MAX_BYTES = 2048, 1024
PADDING = "padding"

# Astral-plane characters on purpose: byte-length and UTF-16 bugs hide there.
_characters = st.characters(codec="utf-8") | st.characters(min_codepoint=0x10000, codec="utf-8")


def texts(min_size: int = 0, max_size: int = 12) -> st.SearchStrategy[str]:
    return st.text(_characters, min_size=min_size, max_size=max_size)


def attribute_names() -> st.SearchStrategy[str]:
    return texts(min_size=1, max_size=10)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --- numbers ------------------------------------------------------------------------

_ZEROS = ("0", "0.0", "-0", "0E3", "0.000")


def _plain(digits: str, exponent: int) -> str:
    if exponent >= len(digits) - 1:
        return digits + "0" * (exponent - len(digits) + 1)
    if exponent >= 0:
        return f"{digits[: exponent + 1]}.{digits[exponent + 1 :]}"
    return "0." + "0" * (-exponent - 1) + digits


def _scientific(digits: str, exponent: int, marker: str) -> str:
    fraction = f".{digits[1:]}" if len(digits) > 1 else ""
    return f"{digits[0]}{fraction}{marker}{exponent}"


def _integer_mantissa(digits: str, exponent: int, marker: str) -> str:
    return f"{digits}{marker}{exponent - len(digits) + 1}"


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """N strings in DynamoDB's range and precision, written in many equal forms."""
    if draw(st.integers(0, 9)) == 0:  # zero one time in ten, shrinking towards it
        return draw(st.sampled_from(_ZEROS))
    # trailing zeros in the digits give forms such as "1.0" and "1.50"
    digits = draw(st.sampled_from("123456789")) + draw(
        st.text("0123456789", max_size=MAX_DIGITS - 1)
    )
    exponent = draw(st.integers(-6, 12) | st.integers(MIN_EXPONENT, MAX_EXPONENT))
    marker = draw(st.sampled_from(["E", "e"]))
    forms = [_scientific(digits, exponent, marker), _integer_mantissa(digits, exponent, marker)]
    if -20 <= exponent <= 40:
        forms.append(_plain(digits, exponent))
    return draw(st.sampled_from(["", "-"])) + draw(st.sampled_from(forms))


_WIDE = Context(prec=MAX_DIGITS + 2)  # normalize() must never round a valid number


def as_stored(text: str) -> str:
    """A number as DynamoDB returns it: plain digits, no trailing zeros ("1.0E2" -> "100")."""
    number = Decimal(text)
    return "0" if number == 0 else format(number.normalize(_WIDE), "f")


# --- attribute values ---------------------------------------------------------------


def scalars() -> st.SearchStrategy[AttributeValue]:
    return st.one_of(
        texts().map(lambda s: {"S": s}),
        numbers().map(lambda n: {"N": n}),
        st.binary(max_size=16).map(lambda b: {"B": _b64(b)}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just(True).map(lambda t: {"NULL": t}),  # a fresh dict each time
    )


def sets() -> st.SearchStrategy[AttributeValue]:
    """SS, NS, BS: non-empty, members distinct (NS by value, BS by bytes)."""
    return st.one_of(
        st.lists(texts(), min_size=1, max_size=5, unique=True).map(lambda m: {"SS": m}),
        st.lists(numbers(), min_size=1, max_size=5, unique_by=Decimal).map(lambda m: {"NS": m}),
        st.lists(st.binary(max_size=8), min_size=1, max_size=5, unique=True).map(
            lambda m: {"BS": [_b64(b) for b in m]}
        ),
    )


def attribute_values(max_depth: int = 2) -> st.SearchStrategy[AttributeValue]:
    """Any attribute value nested at most ``max_depth`` levels (a scalar is one level)."""
    if not 1 <= max_depth <= MAX_DEPTH:
        raise ValueError(f"max_depth must be within 1..{MAX_DEPTH}")
    leaves = scalars() | sets()
    if max_depth == 1:
        return leaves
    inner = attribute_values(max_depth - 1)
    return st.one_of(
        leaves,
        st.dictionaries(attribute_names(), inner, max_size=4).map(lambda m: {"M": m}),
        st.lists(inner, max_size=4).map(lambda m: {"L": m}),
    )


@st.composite
def deeply_nested(draw: st.DrawFn, depth: int = MAX_DEPTH) -> AttributeValue:
    """One value nested exactly ``depth`` levels: maps and lists around a scalar."""
    value = draw(scalars())
    for wrapper in draw(st.lists(st.sampled_from("ML"), min_size=depth - 1, max_size=depth - 1)):
        value = {"M": {draw(attribute_names()): value}} if wrapper == "M" else {"L": [value]}
    return value


def items(max_depth: int = 2) -> st.SearchStrategy[Item]:
    return st.dictionaries(attribute_names(), attribute_values(max_depth), min_size=1, max_size=6)


# --- keys and tables ----------------------------------------------------------------

_KEY_TYPES: tuple[ScalarAttributeTypeType, ...] = ("S", "N", "B")
_KEY_ROLES: tuple[KeyTypeType, ...] = ("HASH", "RANGE")


@st.composite
def key_schemas(draw: st.DrawFn) -> TableKeys:
    """Hash-only or hash and range keys, each of type S, N or B."""
    names = draw(st.lists(attribute_names(), min_size=1, max_size=2, unique=True))
    types = [draw(st.sampled_from(_KEY_TYPES)) for _ in names]
    roles = _KEY_ROLES[: len(names)]
    key_schema: list[KeySchemaElementTypeDef] = [
        {"AttributeName": name, "KeyType": role} for name, role in zip(names, roles, strict=True)
    ]
    definitions: list[AttributeDefinitionTypeDef] = [
        {"AttributeName": name, "AttributeType": kind}
        for name, kind in zip(names, types, strict=True)
    ]
    return key_schema, definitions


def _within_bytes(text: str, limit: int) -> str:
    # cutting may split the last character; "ignore" drops its partial bytes
    return text.encode()[:limit].decode("utf-8", errors="ignore")


def key_values(kind: str, max_bytes: int) -> st.SearchStrategy[AttributeValue]:
    """Key values: S and B non-empty and within ``max_bytes``, sometimes right at it.

    N keys come as DynamoDB stores them: it would merge "1" and "1.0" into one item,
    so equal keys must be equal strings for tests to count items right.
    """
    if kind == "N":
        return numbers().map(lambda n: {"N": as_stored(n)})
    repeats = st.integers(1, max_bytes)
    if kind == "S":
        short = texts(min_size=1)
        long = st.builds(lambda s, n: s * n, texts(min_size=1, max_size=4), repeats)
        cut = (short | long).map(lambda s: _within_bytes(s, max_bytes)).filter(bool)
        return cut.map(lambda s: {"S": s})
    short_b = st.binary(min_size=1, max_size=16)
    long_b = st.builds(lambda b, n: (b * n)[:max_bytes], st.binary(min_size=1, max_size=4), repeats)
    return (short_b | long_b).map(lambda b: {"B": _b64(b)})


def keys_for(schema: TableKeys) -> st.SearchStrategy[Key]:
    """Keys with the schema's names, types and byte limits."""
    key_schema, definitions = schema
    kinds = {d["AttributeName"]: d["AttributeType"] for d in definitions}
    limits = {"HASH": HASH_KEY_MAX_BYTES, "RANGE": RANGE_KEY_MAX_BYTES}
    return st.fixed_dictionaries(
        {
            e["AttributeName"]: key_values(kinds[e["AttributeName"]], limits[e["KeyType"]])
            for e in key_schema
        }
    )


def items_for(schema: TableKeys, max_depth: int = 2) -> st.SearchStrategy[Item]:
    """Items whose key attributes match the schema's names and types."""
    return st.builds(lambda rest, key: {**rest, **key}, items(max_depth), keys_for(schema))


def large_item(
    size_bytes: int = 390 * 1024, schema: TableKeys | None = None
) -> st.SearchStrategy[Item]:
    """An item of exactly ``size_bytes`` by item_size, padded with pseudo-random binary."""
    if not 16 * 1024 <= size_bytes <= MAX_ITEM_BYTES:
        raise ValueError(f"size_bytes must be within 16 KB..{MAX_ITEM_BYTES}")
    base = items(max_depth=1) if schema is None else items_for(schema, max_depth=1)
    seeds = st.integers(0, 2**32 - 1)
    return st.builds(lambda item, seed: _padded(item, seed, size_bytes), base, seeds)


def _padded(item: Item, seed: int, size_bytes: int) -> Item:
    name = PADDING
    while name in item:  # never overwrite a drawn attribute, which may be a key
        name += "_"
    free = size_bytes - item_size(item) - len(name)
    # random bytes, not one repeated byte, so compression cannot hide the size
    return {**item, name: {"B": _b64(random.Random(seed).randbytes(free))}}


# --- checks: what DynamoDB accepts, for tests to hold the strategies to ---------------

LARGEST, SMALLEST = Decimal("9." + "9" * 37 + "E125"), Decimal("1E-130")


def nesting_depth(value: AttributeValue) -> int:
    """Levels as DynamoDB counts them: a top-level scalar is one level."""
    tag, payload = next(iter(value.items()))
    children = payload.values() if tag == "M" else payload if tag == "L" else ()
    return 1 + max((nesting_depth(child) for child in children), default=0)


def valid_number(text: str) -> Decimal:
    number = Decimal(text)
    assert len("".join(map(str, number.as_tuple().digits)).strip("0")) <= MAX_DIGITS, text
    assert number == 0 or SMALLEST <= abs(number) <= LARGEST, text
    return number


# each check returns the member's identity within a set
_SCALAR_CHECKS: dict[str, Callable[[Any], Hashable]] = {
    "S": lambda text: text.encode(),  # fails on lone surrogates
    "N": valid_number,
    "B": lambda text: base64.b64decode(text, validate=True),
}


def assert_valid(value: AttributeValue) -> None:
    """Fail unless DynamoDB would accept the value (depth is checked apart)."""
    assert len(value) == 1, value
    tag, payload = next(iter(value.items()))
    if tag in _SCALAR_CHECKS:
        _SCALAR_CHECKS[tag](payload)
    elif tag in ("SS", "NS", "BS"):
        members = [_SCALAR_CHECKS[tag[0]](member) for member in payload]
        assert members and len(set(members)) == len(members), "non-empty, distinct"
    elif tag in ("M", "L"):
        assert tag == "L" or all(payload), "map keys are non-empty"
        for member in payload.values() if tag == "M" else payload:
            assert_valid(member)
    else:
        assert payload is True or (tag == "BOOL" and payload is False), value
