"""The reads a comparison makes: Scan pages of one segment, and keys by BatchGetItem.

Both go through the data plane (signed HTTP, orjson), items stay in wire form, and
Scan is the toolkit's one loop (``toolkit.wire.scan``). The keys that BatchGetItem
returns as unprocessed are retried until the retry policy gives up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from toolkit.errors import TerminalError
from toolkit.logic.items import Item, Key
from toolkit.wire.scan import Table, projection, scan_answers

BATCH_GET_KEYS = 100  # BatchGetItem's limit, on DynamoDB and Alternator alike


def scan_pages(
    table: Table,
    segment: int,
    total_segments: int,
    *,
    attributes: Sequence[str] | None = None,
    page_items: int | None = None,
) -> Iterator[list[Item]]:
    """The items of one segment, page by page (only ``attributes``, when given)."""
    pages = scan_answers(
        table, segment, total_segments, attributes=attributes, page_items=page_items
    )
    for answer in pages:
        items: list[Item] = answer.body.get("Items", [])
        yield items


def batch_get(
    table: Table,
    keys: Sequence[Key],
    *,
    consistent: bool = False,
    attributes: Sequence[str] | None = None,
) -> list[Item]:
    """The items found for ``keys`` (absent keys are simply not there), any order."""
    found: list[Item] = []
    for start in range(0, len(keys), BATCH_GET_KEYS):
        found += _get_batch(
            table, list(keys[start : start + BATCH_GET_KEYS]), consistent, attributes
        )
    return found


def _get_batch(
    table: Table, keys: list[Key], consistent: bool, attributes: Sequence[str] | None
) -> list[Item]:
    shape: dict[str, Any] = {"ConsistentRead": consistent}
    if attributes:
        shape |= projection(attributes)
    found: list[Item] = []
    delays = table.policy.delays()
    while True:
        request = {"RequestItems": {table.name: {**shape, "Keys": keys}}}
        answer = table.read("BatchGetItem", request)
        found += answer.body.get("Responses", {}).get(table.name, [])
        sent, keys = (
            keys,
            answer.body.get("UnprocessedKeys", {}).get(table.name, {}).get("Keys", []),
        )
        if not keys:
            return found
        if len(keys) < len(sent):  # progress (a full 16 MB answer, say): back off afresh
            delays = table.policy.delays()
        delay = next(delays, None)
        if delay is None:
            raise TerminalError(
                f"reading table {table.name}: {len(keys)} keys stayed unprocessed by "
                "BatchGetItem however long it was retried; try again later or with fewer --workers"
            )
        table.policy.sleep(delay)
