"""Pure logic of stream replay: a record becomes a write, a batch keeps one per key.

INSERT and MODIFY become a put of the record's NewImage; REMOVE a delete of its
Keys; renames apply to both. BatchWriteItem refuses two operations on one key,
and only a key's last state matters (puts carry full images), so a batch keeps
the last change of each key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.errors import TerminalError
from toolkit.logic.items import RenameClash, apply_renames, key_id

PUT = "MODIFY"  # the Scylla Migrator's _dynamo_op_type for inserts and modifications
DELETE = "DELETE"


@dataclass(frozen=True)
class Change:
    key: bytes  # the key's identity, byte for byte
    kind: str  # PUT or DELETE
    request: dict[str, Any]  # a BatchWriteItem request, ready to send


class UnusableRecord(TerminalError):
    """A record that cannot be replayed (no NewImage: the stream's view type is wrong)."""


def change_of(record: Mapping[str, Any], renames: Mapping[str, str], table: str = "") -> Change:
    """The write a record asks for; ``table`` (the source's) names an item in an error."""
    data = record["dynamodb"]
    keys = data["Keys"]
    try:
        if record["eventName"] == "REMOVE":
            request = {"DeleteRequest": {"Key": apply_renames(keys, renames)}}
            return Change(key_id(keys), DELETE, request)
        image = data.get("NewImage")
        if image is None:
            raise UnusableRecord(
                f"stream record {data.get('SequenceNumber')} has no NewImage; "
                "the stream must have view type NEW_IMAGE or NEW_AND_OLD_IMAGES"
            )
        return Change(key_id(keys), PUT, {"PutRequest": {"Item": apply_renames(image, renames)}})
    except RenameClash as clash:  # raised before the page is written or checkpointed
        raise clash.at(table, keys) from None


def last_change_per_key(changes: Iterable[Change]) -> list[Change]:
    """One change per key, the last one, in the order of those last changes."""
    last: dict[bytes, Change] = {}
    for change in changes:
        last.pop(change.key, None)  # re-insert, so dict order follows the last change
        last[change.key] = change
    return list(last.values())


def one_write(changes_of_shards: Sequence[Sequence[Change]]) -> list[Change] | None:
    """Several shards' changes (one per key each) as one write, whose batches may go
    in any order: only when no key is in two of them (else None: each in turn).
    Shards open at once hold keys of their own, so this is the rule, not luck."""
    together = [change for changes in changes_of_shards for change in changes]
    if len({change.key for change in together}) < len(together):
        return None
    return together


def count_by_type(changes: Iterable[Change]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    return dict(sorted(counts.items()))


def operation_table(counts: Mapping[str, int]) -> str:
    """The table the Scylla Migrator prints after each batch, in its exact shape."""
    rule = "+---------------+-----+"
    rows = [f"| {kind:<14}|{count:>5}|" for kind, count in sorted(counts.items())]
    return "\n".join([rule, "|_dynamo_op_type|count|", rule, *rows, rule])
