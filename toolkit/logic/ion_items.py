"""Lines of a DynamoDB export in Amazon Ion text, to and from DynamoDB's wire form.

Documented facts this relies on (DynamoDB Developer Guide, "DynamoDB table export
output format", Amazon Ion): each line is the version marker $ion_1_0 and one
struct; S is an Ion string, N a decimal, B a blob, BOOL a bool, NULL a null, L a
list and M a struct; a set is a list annotated $dynamodb_SS, $dynamodb_NS or
$dynamodb_BS. Numbers become DynamoDB's number text without loss (Decimal).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from amazon.ion import simpleion
from amazon.ion.core import IonType
from amazon.ion.simple_types import IonPyList, IonPyNull

_SETS = {"$dynamodb_SS": "SS", "$dynamodb_NS": "NS", "$dynamodb_BS": "BS"}
_ANNOTATIONS = {kind: annotation for annotation, kind in _SETS.items()}


def parse_ion_line(line: bytes) -> dict[str, Any]:
    """One line of an Ion export as the same dict a DYNAMODB_JSON line gives."""
    try:
        values = simpleion.loads(line.decode("utf-8"), single_value=False)
    except Exception as error:  # the Ion reader raises many kinds for bad input
        raise ValueError(type(error).__name__) from None
    if len(values) != 1 or not isinstance(values[0], Mapping):
        raise ValueError("not one struct")
    return {name: _plain(part) for name, part in values[0].items()}


def ion_line(doc: Mapping[str, Mapping[str, Any]]) -> bytes:
    """A line as DynamoDB writes it in ION format: {Item: ...} or an incremental record."""
    value = {name: {k: _ion(v) for k, v in item.items()} for name, item in doc.items()}
    text: str = simpleion.dumps(value, binary=False)
    return text.encode() + b"\n"


def _plain(part: Any) -> Any:
    """A line's top-level member: Item, Keys, NewImage, OldImage are maps of attributes;
    Metadata's values are attributes too (WriteTimestampMicros is a number)."""
    if isinstance(part, Mapping):
        return _wire_map(part)
    return part


def _wire_map(struct: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _wire(value) for name, value in struct.items()}


def _wire(value: Any) -> dict[str, Any]:
    annotations = [getattr(a, "text", a) for a in getattr(value, "ion_annotations", ())]
    kind = getattr(value, "ion_type", None)
    if isinstance(value, IonPyNull) or value is None:
        return {"NULL": True}
    if annotations and annotations[0] in _SETS:
        return _wire_set(_SETS[annotations[0]], value)
    if kind is IonType.BOOL:
        return {"BOOL": bool(value)}
    if kind in (IonType.STRING, IonType.SYMBOL):
        return {"S": str(value)}
    if kind in (IonType.BLOB, IonType.CLOB):
        return {"B": base64.b64encode(bytes(value)).decode()}
    if kind in (IonType.INT, IonType.DECIMAL, IonType.FLOAT):
        return {"N": _number(value)}
    if kind is IonType.STRUCT:
        return {"M": _wire_map(value)}
    if kind in (IonType.LIST, IonType.SEXP):
        return {"L": [_wire(member) for member in value]}
    raise ValueError(f"an Ion {kind} has no DynamoDB type")


def _wire_set(kind: str, members: list[Any]) -> dict[str, Any]:
    if kind == "SS":
        return {kind: [str(m) for m in members]}
    if kind == "NS":
        return {kind: [_number(m) for m in members]}
    return {kind: [base64.b64encode(bytes(m)).decode() for m in members]}


def _number(value: int | Decimal | float) -> str:
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    exponent = number.as_tuple().exponent
    # Plain digits where they stay short (6d2 -> 600); DynamoDB reads either form.
    if isinstance(exponent, int) and -40 <= exponent <= 40:
        return format(number, "f")
    return str(number)


def _ion(value: Mapping[str, Any]) -> Any:
    ((kind, payload),) = value.items()
    if kind in _ANNOTATIONS:
        members = [_ion({kind[0]: member}) for member in payload]
        return IonPyList.from_value(IonType.LIST, members, (_ANNOTATIONS[kind],))
    if kind == "S":
        return payload
    if kind == "N":
        return Decimal(payload)
    if kind == "B":
        return base64.b64decode(payload)
    if kind == "BOOL":
        return bool(payload)
    if kind == "NULL":
        return IonPyNull.from_value(IonType.NULL, None)
    if kind == "L":
        return [_ion(member) for member in payload]
    return {name: _ion(member) for name, member in payload.items()}
