"""A DynamoDB export's data files: read whole, checked against their checksums and
their folder's listing, and cut into pages of parsed lines.

A data file is one part of the copy, recorded only once every write of it was
acknowledged: a restart copies each unfinished file again, whole (full-image puts
and deletes make that safe).
"""

from __future__ import annotations

import gzip
import io
import logging
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from toolkit.connectors.base import Page
from toolkit.errors import TerminalError
from toolkit.logic.export_files import data_folder, file_problem
from toolkit.logic.export_format import (
    DataFile,
    ExportFormatError,
    ExportSummary,
    check_checksum,
    parse_line,
    requests_of,
)
from toolkit.wire.s3_store import Store

log = logging.getLogger("migrator")
CHUNK = 1000  # lines a page holds: progress and stop checks between pages


@dataclass(frozen=True)
class ExportPart:
    """One export of the run and its data files."""

    summary: ExportSummary
    files: Sequence[DataFile]


def fetch(store: Store, data_file: DataFile) -> bytes:
    """A data file as stored (gzipped), checked against its checksum before any use."""
    raw = store.get(data_file.key)
    check_checksum(raw, data_file.md5, f"the data file {store.url(data_file.key)}")
    return raw


def doc_batches(
    raw: bytes, summary: ExportSummary, where: str
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """A data file's lines, parsed, CHUNK at a time (memory stays bounded by the chunk),
    with their bytes as uncompressed DynamoDB JSON: what a table written as an export
    counts, so that an export and its load say the same (an Ion line counts as the
    JSON line it would be).

    An incremental file comes whole, as one batch: it keeps one change per key.
    """
    batch: list[dict[str, Any]] = []
    size = 0
    ion = summary.output_format == "ION"
    for line in _lines(raw, where):
        doc = parse_line(line, summary.output_format, where)
        batch.append(doc)
        size += len(orjson.dumps(doc)) + 1 if ion else len(line)
        if len(batch) >= CHUNK and not summary.incremental:
            yield batch, size
            batch, size = [], 0
    if batch:
        yield batch, size


def check_files(store: Store, part: ExportPart, in_place: bool) -> None:
    """Every data file of an export, as one listing of their folder shows it, before any
    file is read: present, not too short for its items, its ETag (see export_files).

    ``in_place``: the export is read from the bucket it was written to.
    """
    if not part.files:
        return
    folder = data_folder(f.key for f in part.files)
    stored = store.listing(folder)
    if stored is None:
        log.warning(
            "The credentials may not list %s (s3:ListBucket), so its data files are "
            "checked only as each is read",
            store.url(folder),
        )
        return
    problems = [
        (f.key, problem)
        for f in part.files
        if (problem := file_problem(f, stored.get(f.key), in_place)) is not None
    ]
    if not problems:
        return
    key, problem = problems[0]
    more = f" ({len(problems) - 1} more of its data files too)" if len(problems) > 1 else ""
    raise ExportFormatError(
        f"the data file {store.url(key)} {problem}{more}: the export "
        f"{store.url(part.summary.key)} is incomplete or damaged; copy its files again "
        "from the original, or take a new export"
    )


def first_item(store: Store, summary: ExportSummary, data_file: DataFile) -> dict[str, Any] | None:
    """The first item (or changed key) of a data file, None when it is empty."""
    where = store.url(data_file.key)
    for line in _lines(fetch(store, data_file), where):
        item = parse_line(line, summary.output_format, where).get(
            "Keys" if summary.incremental else "Item"
        )
        return item if isinstance(item, dict) else {}
    return None


def _lines(raw: bytes, where: str) -> Iterator[bytes]:
    if not raw:
        return  # DynamoDB writes an empty file for an empty partition
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as text:
            for line in text:
                if line.strip():
                    yield line
    except (OSError, EOFError, zlib.error) as error:
        raise TerminalError(f"the data file {where} is not gzip ({error})") from None


def file_pages(
    store: Store, summary: ExportSummary, data_file: DataFile, key_names: Sequence[str]
) -> Iterator[Page]:
    """A data file's write requests, CHUNK at a time, the file's bytes counted on its
    first page. Its line count is checked against the manifest before its last page,
    so a file whose count is off never ends (nor is recorded as done)."""
    where = store.url(data_file.key)
    held: Page | None = None
    lines = 0
    for docs, size in doc_batches(fetch(store, data_file), summary, where):
        lines += len(docs)
        changes = requests_of(docs, summary.incremental, key_names, where)
        for start in range(0, max(1, len(changes)), CHUNK):
            if held is not None:
                yield held
            held = Page(changes[start : start + CHUNK], size if start == 0 else 0, lines)
    if data_file.item_count is not None and lines != data_file.item_count:
        raise ExportFormatError(
            f"the data file {where} holds {lines} lines, but manifest-files.json "
            f"says {data_file.item_count}: the export is damaged"
        )
    yield Page(held.requests, held.size, None) if held is not None else Page([], 0, None)
