"""An S3 export's manifests, read and checked before any table is touched.

Every listed export's summary and file manifest (and their checksums), the order of
the exports (the FULL one first, then each INCREMENTAL one after the one before),
every data file as one listing per export shows it, and the key schema of the
export's first item against source.tableDescription.
"""

from __future__ import annotations

from typing import Any

import orjson

from toolkit.config.exports import ExportSource
from toolkit.connectors.s3_export.files import ExportPart, check_files, first_item
from toolkit.errors import UserError
from toolkit.logic.export_format import (
    ExportFormatError,
    check_checksum,
    key_problem,
    order_exports,
    parse_files,
    parse_summary,
)
from toolkit.logic.table_schema import key_schema, show
from toolkit.wire.s3_store import Store


def load_exports(store: Store, export: ExportSource) -> list[ExportPart]:
    """Every listed export's summary and file list, checked and put in order."""
    parts: dict[str, ExportPart] = {}
    for key in export.manifest_keys:
        raw = _read(store, key, "manifest")
        summary = parse_summary(raw, key, store.url(key))
        doc = orjson.loads(raw)
        files_raw = _read(store, summary.files_key, "file manifest")
        check_checksum(
            files_raw, summary.files_md5, f"the file manifest {store.url(summary.files_key)}"
        )
        files = parse_files(files_raw, summary, doc)
        counts = [f.item_count for f in files if f.item_count is not None]
        complete = summary.item_count is not None and len(counts) == len(files)
        if complete and sum(counts) != summary.item_count:
            raise ExportFormatError(
                f"{store.url(key)} counts {summary.item_count} items but its data files "
                f"{sum(counts)}: the export is incomplete or damaged"
            )
        parts[summary.export_arn] = ExportPart(summary, files)
    ordered = [parts[s.export_arn] for s in order_exports([p.summary for p in parts.values()])]
    for part in ordered:  # one listing per export, before any data file is read
        check_files(store, part, in_place=part.summary.bucket == export.bucket)
    return ordered


def check_first_item(store: Store, parts: list[ExportPart], description: dict[str, Any]) -> None:
    """An export of another table is refused before any write, from its first item."""
    keys = key_schema(description)
    types = {k.name: k.type for k in keys}
    recorded = parts[0].summary.table_key_schema
    wanted = tuple(sorted((k.name, k.role) for k in keys))
    if recorded is not None and tuple(sorted(recorded)) != wanted:
        raise UserError(
            f"the export {parts[0].summary.key} was written from a table with key schema "
            f"{list(recorded)}, but source.tableDescription says [{show(keys)}]; "
            "fix tableDescription"
        )
    for data_file in parts[0].files:
        item = first_item(store, parts[0].summary, data_file)
        if item is None:
            continue
        problem = key_problem(item, types)
        if problem is not None:
            raise UserError(
                f"the export {store.url(parts[0].summary.key)} does not match "
                f"source.tableDescription [{show(keys)}]: in its first item, {problem}; "
                "is it an export of another table?"
            )
        return


def exports_named(store: Store, parts: list[ExportPart], shown: int = 3) -> str:
    """The exports of a load, in the order they are applied: all of them, or the first few."""
    urls = [store.url(p.summary.key) for p in parts]
    more = f" and {len(urls) - shown} more" if len(urls) > shown else ""
    names = ", ".join(urls[:shown]) + more
    return f"the export {names}" if len(urls) == 1 else f"{len(urls)} exports ({names})"


def _read(store: Store, key: str, what: str) -> bytes:
    try:
        return store.get(key)
    except UserError as error:
        raise UserError(f"cannot read the export's {what}: {error}") from None
