"""Pure logic on items in DynamoDB's wire form: keys, renames, TTL, canonical form, size.

Items stay the JSON attribute-value maps the servers send (``{"n": {"N": "1.5"}}``).
Nothing here turns a value into a Python number or bytes on the data path; only
``canonical`` and ``digest``, which ``verify`` uses, interpret values.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from toolkit.errors import TerminalError

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
Key = dict[str, AttributeValue]

# DynamoDB's TTL process ignores expiry times more than five years in the past.
# A year here is 365.25 days, so leap days count whichever five years they are.
TTL_MAX_AGE_SECONDS = int(5 * 365.25 * 86400)


def key_of(item: Item, key_names: Sequence[str]) -> Key:
    """The key attributes of an item, values untouched."""
    return {name: item[name] for name in key_names}


def key_id(key: Key) -> bytes:
    """A stable, hashable identity of a key, whatever the order of its dicts.

    Values are compared as sent, byte for byte: Alternator stores ``1E3`` and
    ``1000`` as two keys, so normalising here would merge two items.
    """
    return orjson.dumps(key, option=orjson.OPT_SORT_KEYS)


class RenameClash(TerminalError):
    """An item holds both a rename's old name and its new one: one value would be lost."""

    def __init__(self, old: str, new: str, key: Key | None = None, table: str = "") -> None:
        self.old, self.new, self.key = old, new, key or {}
        shown = f" {orjson.dumps(key, option=orjson.OPT_SORT_KEYS).decode()}" if key else ""
        of_table = f" of table {table}" if table else ""
        super().__init__(
            f"item{shown}{of_table} holds both {old} and {new}: renaming {old} to {new} would "
            f"overwrite its {new}, so the run stops here; rename {new} as well, or drop that rename"
        )

    def at(self, table: str, key: Key) -> RenameClash:
        """The same clash, naming the table and the item's key."""
        return RenameClash(self.old, self.new, key, table)


def apply_renames(item: Item, renames: Mapping[str, str]) -> Item:
    """Rename top-level attributes; the same object back when there is nothing to rename.

    Never one value over another: an item that holds a rename's new name as well as
    its old one (and keeps the new one) raises RenameClash.
    """
    if not renames:
        return item
    renamed: Item = {}
    for name, value in item.items():
        new = renames.get(name, name)
        if new in renamed:
            old = name if new != name else _renamed_from(new, renames, item)
            raise RenameClash(old, new)
        renamed[new] = value
    return renamed


def _renamed_from(new: str, renames: Mapping[str, str], item: Item) -> str:
    return next(old for old, to in renames.items() if to == new and old in item and old != new)


def ttl_expired(item: Item, ttl_attribute: str | None, now: float) -> bool:
    """Whether DynamoDB's TTL process would treat the item as expired at ``now``.

    Only a Number holding epoch seconds counts; it is expired once in the past, but
    not when more than five years in the past (DynamoDB ignores those).
    """
    if ttl_attribute is None:
        return False
    value = item.get(ttl_attribute)
    if not isinstance(value, dict) or not isinstance(value.get("N"), str):
        return False
    try:
        expires = Decimal(value["N"])
    except InvalidOperation:
        return False
    if not expires.is_finite():
        return False
    current = Decimal(now)
    return current - TTL_MAX_AGE_SECONDS <= expires < current


def canonical(value_or_item: Mapping[str, Any]) -> Any:
    """A form of an item or attribute value where semantically equal means ``==``.

    Numbers compare by value, sets ignore member order, binaries compare by their
    decoded bytes, maps by key, lists in order. A valid item is never mistaken for an
    attribute value: ``_is_value`` checks the payload's shape, down through maps.
    """
    if _is_value(value_or_item):
        return _canonical_value(value_or_item)
    return _canonical_item(value_or_item)


def digest(item: Item) -> str:
    """A stable hex SHA-256 of the item's canonical form."""
    encoded = orjson.dumps(_canonical_item(item), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(encoded).hexdigest()


def item_size(item: Item) -> int:
    """DynamoDB's size of an item: attribute names' UTF-8 bytes plus their values' sizes."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


# --- canonical form ---------------------------------------------------------------

_PAYLOAD_TYPES: dict[str, type] = {
    "S": str,
    "N": str,
    "B": str,
    "SS": list,
    "NS": list,
    "BS": list,
    "L": list,
    "M": dict,
    "BOOL": bool,
    "NULL": bool,
}


def _is_value(candidate: Mapping[str, Any]) -> bool:
    if len(candidate) != 1:
        return False
    tag, payload = next(iter(candidate.items()))
    expected = _PAYLOAD_TYPES.get(tag)
    if expected is None or not isinstance(payload, expected):
        return False
    # {"M": {...}} is also an item with one attribute named "M"; only a value's
    # members are themselves attribute values all the way down.
    return tag != "M" or all(isinstance(v, dict) and _is_value(v) for v in candidate["M"].values())


def _canonical_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    return {name: _canonical_value(value) for name, value in item.items()}


def _canonical_value(value: Mapping[str, Any]) -> dict[str, Any]:
    tag, payload = next(iter(value.items()))
    return {tag: _CANONICAL[tag](payload)}


def _canonical_number(text: str) -> str:
    negative, digits, exponent = _number_parts(text)
    if not digits:
        return "0"  # -0 and 0E5 are zero too
    return f"{'-' if negative else ''}{digits}E{exponent}"


def _number_parts(text: str) -> tuple[bool, str, int]:
    """Sign, significant digits without leading or trailing zeros, and exponent: exact."""
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"not a number: {text!r}") from error
    sign, digit_tuple, exponent = number.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {text!r}")
    padded = "".join(map(str, digit_tuple))
    digits = padded.rstrip("0")
    return bool(sign), digits, exponent + len(padded) - len(digits)


def _canonical_binary(text: str) -> str:
    return base64.b64encode(base64.b64decode(text)).decode()


def _same(payload: Any) -> Any:
    return payload


_CANONICAL: dict[str, Callable[[Any], Any]] = {
    "S": _same,
    "N": _canonical_number,
    "B": _canonical_binary,
    "SS": sorted,
    "NS": lambda members: sorted(map(_canonical_number, members)),
    "BS": lambda members: sorted(map(_canonical_binary, members)),
    "L": lambda members: [_canonical_value(member) for member in members],
    "M": _canonical_item,
    "BOOL": _same,
    "NULL": _same,
}


# --- size ---------------------------------------------------------------------------


def _value_size(value: AttributeValue) -> int:
    tag, payload = next(iter(value.items()))
    return _SIZE[tag](payload)


def _string_size(text: str) -> int:
    return len(text.encode())


def _number_size(text: str) -> int:
    """About one byte per two significant digits, plus one, as documented; exactly:

    digits pair up around the decimal point (base 100), so 7.5 takes two pairs, and a
    negative number takes one byte more. DynamoDB Local's 400 KB check agrees.
    """
    negative, digits, last = _number_parts(text)
    if not digits:
        return 1
    first = last + len(digits) - 1  # powers of ten of the first and last digit
    return 1 + (first // 2 - last // 2 + 1) + negative


def _binary_size(text: str) -> int:
    """Raw byte length of base64 text, computed without decoding it."""
    padding = 2 if text.endswith("==") else 1 if text.endswith("=") else 0
    return (len(text) - padding) * 3 // 4


def _list_size(members: list[AttributeValue]) -> int:
    # 3 bytes for the list, 1 more per element
    return 3 + sum(_value_size(member) + 1 for member in members)


def _map_size(members: dict[str, AttributeValue]) -> int:
    # 3 bytes for the map, 1 more per element, whose name counts like a top-level one
    return 3 + sum(len(name.encode()) + _value_size(v) + 1 for name, v in members.items())


_SIZE: dict[str, Callable[[Any], int]] = {
    "S": _string_size,
    "N": _number_size,
    "B": _binary_size,
    "SS": lambda members: sum(map(_string_size, members)),
    "NS": lambda members: sum(map(_number_size, members)),
    "BS": lambda members: sum(map(_binary_size, members)),
    "L": _list_size,
    "M": _map_size,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
}
