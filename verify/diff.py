"""The comparison itself, pure: items in, differences out. No I/O, no boto3.

Items are DynamoDB's wire form. Two items are equal when their canonical forms
are (``toolkit.logic.items.canonical``: numbers by value, sets unordered, maps by key,
binaries by bytes). Keys pair items byte for byte (``toolkit.logic.items.key_id``), as
Alternator does. The attribute-level explanation of a difference comes from
deepdiff, run on a plain-value form of both items (numbers as Decimal, sets as
frozensets, binaries as bytes), so that its lines read like the data.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any, Literal

import orjson
from deepdiff import DeepDiff

from toolkit.logic.items import (
    AttributeValue,
    Item,
    Key,
    RenameClash,
    apply_renames,
    canonical,
    key_id,
    key_of,
)

Kind = Literal["missing", "extra", "different"]
NO_RENAMES: Mapping[str, str] = {}
SHOWN_CHARS = 60  # a value longer than this is cut in a change line


@dataclass(frozen=True)
class Change:
    """One attribute-level difference, its values rendered for a person."""

    path: str  # e.g. price, address.city, tags, history[2]
    what: str  # changed, type changed, only in source, only in target, ...
    source: str | None = None
    target: str | None = None

    def line(self) -> str:
        if self.source is not None and self.target is not None:
            return f"{self.path}: {self.what}: {self.source} → {self.target}"
        value = self.source if self.source is not None else self.target
        return f"{self.path}: {self.what}" + (f": {value}" if value is not None else "")


@dataclass(frozen=True)
class Difference:
    """An item that is not the same on both sides, under the target's names."""

    kind: Kind
    key: Key
    source: Item | None  # the source's version, renamed; None when extra
    target: Item | None  # None when missing
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Outcome:
    identical: int
    differences: list[Difference] = field(default_factory=list)


def same_item(source: Item, target: Item, tolerance: float = 0.0) -> bool:
    """Semantic equality; the byte-equal case, by far the most common, is cheap.

    With a ``tolerance`` (validation.floatingPointTolerance), numbers at most that far
    apart are equal, wherever they are (sets of numbers sorted first), as the Scylla
    Migrator compares them; all else stays exact.
    """
    if source == target or canonical(source) == canonical(target):
        return True
    return tolerance > 0 and _close_items(source, target, Decimal(repr(tolerance)))


_WIDE = Context(prec=400)  # exact differences of any two DynamoDB numbers (38 digits, e±130)


def _close_items(source: Mapping[str, Any], target: Mapping[str, Any], tolerance: Decimal) -> bool:
    return source.keys() == target.keys() and all(
        _close(source[name], target[name], tolerance) for name in source
    )


def _close(source: AttributeValue, target: AttributeValue, tolerance: Decimal) -> bool:
    (tag, left), (other, right) = next(iter(source.items())), next(iter(target.items()))
    if tag != other:
        return False
    if tag == "N":
        return _WIDE.abs(_WIDE.subtract(Decimal(left), Decimal(right))) <= tolerance
    if tag == "NS":
        lefts, rights = sorted(map(Decimal, left)), sorted(map(Decimal, right))
        return len(lefts) == len(rights) and all(
            _WIDE.abs(_WIDE.subtract(x, y)) <= tolerance for x, y in zip(lefts, rights, strict=True)
        )
    if tag == "L":
        return len(left) == len(right) and all(
            _close(x, y, tolerance) for x, y in zip(left, right, strict=True)
        )
    if tag == "M":
        return _close_items(left, right, tolerance)
    return bool(canonical(source) == canonical(target))


def diff_items(
    source: Iterable[Item],
    target: Iterable[Item],
    key_names: Sequence[str],
    renames: Mapping[str, str] = NO_RENAMES,
    tolerance: float = 0.0,
) -> Outcome:
    """Compare source items (renamed here) with target items for the same keys.

    ``key_names`` are the target's. A key only in the source is missing, only in the
    target extra; a key on both sides whose items differ (beyond ``tolerance`` for
    numbers) is different.
    """
    targets = {key_id(key_of(item, key_names)): item for item in target}
    matched: set[bytes] = set()
    identical = 0
    differences: list[Difference] = []
    for item in source:
        renamed = _renamed(item, renames, key_names)
        key = key_of(renamed, key_names)
        identity = key_id(key)
        other = targets.get(identity)
        if other is None:
            differences.append(Difference("missing", key, renamed, None))
            continue
        matched.add(identity)
        if same_item(renamed, other, tolerance):
            identical += 1
        else:
            differences.append(
                Difference("different", key, renamed, other, explain(renamed, other))
            )
    for identity, other in targets.items():
        if identity not in matched:
            differences.append(Difference("extra", key_of(other, key_names), None, other))
    return Outcome(identical, differences)


def _renamed(item: Item, renames: Mapping[str, str], key_names: Sequence[str]) -> Item:
    try:
        return apply_renames(item, renames)
    except RenameClash as clash:
        old_names = {new: old for old, new in renames.items()}
        raise clash.at(
            "", key_of(item, [old_names.get(name, name) for name in key_names])
        ) from None


def absent_keys(
    wanted: Iterable[Key],
    found: Iterable[Item],
    key_names: Sequence[str],
    renames: Mapping[str, str] = NO_RENAMES,
) -> list[Key]:
    """The wanted keys (target's names) that no found source item (source's names) has."""
    present = {key_id(key_of(apply_renames(item, renames), key_names)) for item in found}
    return [key for key in wanted if key_id(key) not in present]


# --- the readable explanation ----------------------------------------------------------


def explain(source: Item, target: Item) -> tuple[Change, ...]:
    """Attribute-level changes from source to target, sorted by path."""
    # latin-1 maps every byte to one character: binaries hash apart, by their bytes
    tree = DeepDiff(plain_item(source), plain_item(target), view="tree", encodings=["latin-1"])
    changes = [_change(report, level) for report, levels in tree.items() for level in levels]
    if not changes:  # the plain form is coarser than canonical only for invalid data
        changes = [Change("(item)", "differs", show(plain_item(source)), show(plain_item(target)))]
    return tuple(sorted(changes, key=lambda change: (change.path, change.what)))


_ONLY = {
    "dictionary_item_removed": "only in source",
    "iterable_item_removed": "only in source",
    "dictionary_item_added": "only in target",
    "iterable_item_added": "only in target",
}
_MEMBER = {"set_item_removed": "member only in source", "set_item_added": "member only in target"}


def _change(report: str, level: Any) -> Change:
    path = render_path(level.path(output_format="list"))
    if report in _ONLY:
        value = level.t1 if report.endswith("removed") else level.t2
        return Change(path, _ONLY[report], show(value))
    if report in _MEMBER:
        value = level.t1 if report.endswith("removed") else level.t2
        return Change(path, _MEMBER[report], show(value))
    if report == "type_changes":
        source, target = level.t1, level.t2
        what = f"type changed from {type_name(source)} to {type_name(target)}"
        return Change(path, what, show(source), show(target))
    return Change(path, "changed", show(level.t1), show(level.t2))


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render_path(elements: Sequence[Any]) -> str:
    """['address', 'city'] -> address.city; [1] -> [1]; odd names are quoted."""
    text = ""
    for element in elements:
        if element is None:  # a set member: the path ends at the set
            continue
        if isinstance(element, int):
            text += f"[{element}]"
        elif _IDENTIFIER.fullmatch(str(element)):
            text += f".{element}" if text else str(element)
        else:
            text += f"[{orjson.dumps(str(element)).decode()}]"
    return text or "(item)"


def plain_item(item: Item) -> dict[str, Any]:
    return {name: plain_value(value) for name, value in item.items()}


def plain_value(value: AttributeValue) -> Any:
    tag, payload = next(iter(value.items()))
    return _PLAIN[tag](payload)


def _bytes(text: str) -> bytes:
    return base64.b64decode(text)


_PLAIN: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "N": Decimal,
    "B": _bytes,
    "SS": frozenset,
    "NS": lambda members: frozenset(map(Decimal, members)),
    "BS": lambda members: frozenset(map(_bytes, members)),
    "L": lambda members: [plain_value(member) for member in members],
    "M": plain_item,
    "BOOL": bool,
    "NULL": lambda _: None,
}


def type_name(value: Any) -> str:
    if isinstance(value, frozenset):
        member = next(iter(value), "")
        return f"{type_name(member)} set"
    names = {str: "string", Decimal: "number", bytes: "binary", bool: "boolean"}
    names |= {list: "list", dict: "map", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def show(value: Any) -> str:
    """A value as a short line: "text", 1.5, b64:AAE=, {"a", "b"}, [1, 2], {x: 1}."""
    text = _show(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return orjson.dumps(value).decode()
    if isinstance(value, bytes):
        return "b64:" + base64.b64encode(value).decode()
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(_show(member) for member in value)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(member) for member in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{render_path([name])}: {_show(v)}" for name, v in value.items())
        return "{" + inner + "}"
    return str(value)
