"""DynamoDB's export format in S3 as pure logic: manifests, data lines, checksums.

Documented facts this relies on (DynamoDB Developer Guide, "DynamoDB table export
output format"; API reference, ExportDescription and IncrementalExportSpecification;
the Scylla Migrator's reader and writer of the same files):

- manifest-summary.json is one JSON object: version, exportArn, startTime, endTime,
  tableArn, tableId, exportTime, s3Bucket, s3Prefix, manifestFilesS3Key,
  billedSizeBytes, itemCount, outputFormat (DYNAMODB_JSON or ION); an incremental
  export adds exportType INCREMENTAL_EXPORT (FULL_EXPORT otherwise, or absent),
  exportFromTime and exportToTime (read here also from a nested
  incrementalExportSpecification) and outputView. Times are ISO 8601 in UTC.
- manifest-files.json is JSON lines, one object per data file: itemCount,
  md5Checksum (base64 of the MD5 of the object as stored, gzipped), etag and
  dataFileS3Key. When the summary carries manifestFilesMd5Checksum, it is the same
  checksum of manifest-files.json.
- AWS's keys start at the bucket's root and include s3Prefix (the guide's one
  example leaves the prefix out, so a key outside s3Prefix gets it put in front).
  The Migrator's writer writes no s3Bucket, and keys relative to the summary's folder.
- A data file is gzipped lines. A full export's line is {"Item": {...}} in DynamoDB
  JSON. An incremental export's line is {"Metadata": {"WriteTimestampMicros":
  {"N": ...}}, "Keys": {...}, "OldImage": {...}, "NewImage": {...}}; OldImage only
  with the NEW_AND_OLD_IMAGES view, and no NewImage when the item was deleted in
  the window. Each changed item appears once per export, with its last state.
- An ION export's line is the version marker $ion_1_0 and a struct of the same
  fields (toolkit.logic.ion_items turns it into the same shape).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from toolkit.errors import UserError
from toolkit.logic.ion_items import parse_ion_line

WriteRequest = dict[str, Any]
FORMATS = ("DYNAMODB_JSON", "ION")


class ExportFormatError(UserError):
    """An export's file is not in DynamoDB's export format."""


@dataclass(frozen=True)
class ExportSummary:
    key: str  # where manifest-summary.json was read
    export_arn: str
    table_arn: str | None
    incremental: bool
    export_time: datetime | None  # a full export's point in time
    from_time: datetime | None  # an incremental export's window
    to_time: datetime | None
    output_format: str
    files_key: str  # manifest-files.json, resolved from the bucket's root
    item_count: int | None
    files_md5: str | None
    table_key_schema: tuple[tuple[str, str], ...] | None  # the Migrator's tableKeySchema
    bucket: str | None = None  # s3Bucket: where the export was written (None: not said)

    @property
    def covered_until(self) -> datetime | None:
        """The time up to which the export holds every change (None: it does not say)."""
        return self.to_time if self.incremental else self.export_time


@dataclass(frozen=True)
class DataFile:
    key: str
    item_count: int | None
    md5: str | None
    etag: str | None


def parse_summary(raw: bytes, key: str, where: str | None = None) -> ExportSummary:
    """The summary read from ``key`` (``where`` names it in messages, e.g. as s3://...)."""
    where = where or key
    doc = _json_object(raw, where)
    incremental = str(doc.get("exportType") or "FULL_EXPORT") == "INCREMENTAL_EXPORT"
    spec = doc.get("incrementalExportSpecification") or {}
    times = {
        name: _time(doc.get(name, spec.get(name)), name, where)
        for name in ("exportTime", "exportFromTime", "exportToTime")
    }
    # The Scylla Migrator's writer gives no exportTime: a full export may lack it.
    needed = ("exportFromTime", "exportToTime") if incremental else ()
    for name in needed:
        if times[name] is None:
            raise ExportFormatError(f"{where} has no {name}; is it a DynamoDB export's summary?")
    output_format = str(doc.get("outputFormat") or "DYNAMODB_JSON")
    if output_format not in FORMATS:
        raise ExportFormatError(
            f"{where}: outputFormat {output_format!r} is not {' or '.join(FORMATS)}"
        )
    files = doc.get("manifestFilesS3Key")
    if not isinstance(files, str) or not files:
        raise ExportFormatError(f"{where} has no manifestFilesS3Key; is it manifest-summary.json?")
    return ExportSummary(
        key=key,
        export_arn=str(doc.get("exportArn") or key),
        table_arn=doc.get("tableArn"),
        incremental=incremental,
        export_time=times["exportTime"],
        from_time=times["exportFromTime"],
        to_time=times["exportToTime"],
        output_format=output_format,
        files_key=resolve_key(doc, key, files),
        item_count=_count(doc.get("itemCount")),
        files_md5=doc.get("manifestFilesMd5Checksum"),
        table_key_schema=_key_schema(doc.get("tableKeySchema")),
        bucket=doc.get("s3Bucket") if isinstance(doc.get("s3Bucket"), str) else None,
    )


def resolve_key(summary: Mapping[str, Any], summary_key: str, key: str) -> str:
    """A key named in a manifest, from the bucket's root (see the module's comment)."""
    if "s3Bucket" not in summary:  # the Migrator's writer: relative to the summary's folder
        folder = summary_key.rpartition("/")[0]
        return f"{folder}/{key}" if folder else key
    prefix = str(summary.get("s3Prefix") or "").strip("/")
    if not prefix or key.startswith(f"{prefix}/"):
        return key
    return f"{prefix}/{key}"


def parse_files(
    raw: bytes, summary: ExportSummary, summary_doc: Mapping[str, Any]
) -> list[DataFile]:
    files: list[DataFile] = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        doc = _json_object(line, f"{summary.files_key} line {number}")
        key = doc.get("dataFileS3Key")
        if not isinstance(key, str) or not key:
            raise ExportFormatError(f"{summary.files_key} line {number} has no dataFileS3Key")
        files.append(
            DataFile(
                resolve_key(summary_doc, summary.key, key),
                _count(doc.get("itemCount")),
                doc.get("md5Checksum"),
                doc.get("etag"),
            )
        )
    return files


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def check_checksum(data: bytes, expected: str | None, what: str) -> None:
    if expected is not None and md5_base64(data) != expected:
        raise ExportFormatError(
            f"{what} does not match its MD5 checksum {expected} from the manifest: the file "
            "is damaged or belongs to another export"
        )


def parse_line(line: bytes, output_format: str, where: str) -> dict[str, Any]:
    if output_format == "ION":
        try:
            return parse_ion_line(line)
        except ValueError as error:
            raise ExportFormatError(f"{where} is not an Ion export line ({error})") from None
    return _json_object(line, where)


def requests_of(
    docs: Sequence[Mapping[str, Any]], incremental: bool, key_names: Sequence[str], where: str
) -> list[WriteRequest]:
    """BatchWriteItem requests for a data file's lines; one per key for incremental ones."""
    if not incremental:
        return [{"PutRequest": {"Item": _member(doc, "Item", where)}} for doc in docs]
    latest: dict[bytes, tuple[int, WriteRequest]] = {}
    for doc in docs:
        keys = _member(doc, "Keys", where)
        stamp = _stamp(doc)
        ident = orjson.dumps([keys.get(name) for name in key_names])
        image = doc.get("NewImage")
        request = {"PutRequest": {"Item": image}} if image else {"DeleteRequest": {"Key": keys}}
        if ident not in latest or latest[ident][0] <= stamp:
            latest[ident] = (stamp, request)
    return [request for _, request in latest.values()]


def key_problem(item: Mapping[str, Any], key_types: Mapping[str, str]) -> str | None:
    """Why an item cannot belong to a table of these key attributes, or None."""
    for name, kind in key_types.items():
        value = item.get(name)
        if not isinstance(value, dict) or kind not in value:
            found = "no such attribute" if value is None else f"type {','.join(value)}"
            return f"key attribute {name} ({kind}) is missing ({found})"
    return None


def order_exports(summaries: Sequence[ExportSummary]) -> list[ExportSummary]:
    """One FULL export, then INCREMENTAL ones chained by their windows, or a UserError.

    A window [exportFromTime, exportToTime) holds each changed item's last state in it
    (start inclusive, end exclusive: the API reference's IncrementalExportSpecification).
    Laid over what came before, it is right only when it starts at or before the time
    covered so far (else the changes in between are in no export) and ends after it
    (else its older states replace newer ones). The first window may start before the
    full export's exportTime, as a chain of exports taken after a full one does.
    """
    full = [s for s in summaries if not s.incremental]
    if len(full) != 1:
        names = ", ".join(s.key for s in full) or "none"
        raise UserError(
            f"source.manifestKey must name exactly one FULL export (found {names}); "
            "incremental exports are applied on top of a full one"
        )
    windows = sorted((s for s in summaries if s.incremental), key=lambda s: (_window(s), s.key))
    taken = full[0].export_time
    if not windows:
        return full
    if taken is None:
        raise UserError(
            f"the export {full[0].key} has no exportTime, so no incremental export can be "
            "known to follow it; apply incremental exports on top of a DynamoDB full export"
        )
    before, covered = full[0], taken  # covered: until when the exports so far hold changes
    for window in windows:
        problem = _chain_problem(full[0], taken, before, covered, window)
        if problem is not None:
            raise UserError(problem)
        before, covered = window, _window(window)[1]
    return full + windows


def _chain_problem(
    full: ExportSummary,
    taken: datetime,
    before: ExportSummary,
    covered: datetime,
    window: ExportSummary,
) -> str | None:
    """Why ``window`` cannot be laid over the exports up to ``before`` (covered until then)."""
    start, end = _window(window)
    if end <= taken:
        return (
            f"the incremental export {window.key} ({_span(window)}) ends at or before the full "
            f"export {full.key} was taken ({_show(taken)}): laid over it, its changes would "
            "bring back older states; leave it out of source.manifestKey"
        )
    if start > covered:
        return (
            f"the export {window.key} starts at {_show(start)}, after {before.key} "
            f"{'ends' if before.incremental else 'was taken'} at {_show(covered)}: the changes "
            "in between are in neither; add the export that covers them"
        )
    if end <= covered:
        return (
            f"the incremental export {window.key} ({_span(window)}) lies within the window "
            f"of {before.key} ({_span(before)}): applied after it, it would bring back older "
            "states; leave one of them out of source.manifestKey"
        )
    return None


def item_line(item: Mapping[str, Any]) -> bytes:
    return orjson.dumps({"Item": item}) + b"\n"


def files_manifest(files: Sequence[DataFile]) -> bytes:
    return b"".join(
        orjson.dumps(
            {
                "itemCount": f.item_count,
                "md5Checksum": f.md5,
                "etag": f.etag,
                "dataFileS3Key": f.key,
            }
        )
        + b"\n"
        for f in files
    )


def show_time(moment: datetime) -> str:
    return _show(moment)


def _show(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _window(summary: ExportSummary) -> tuple[datetime, datetime]:
    assert summary.from_time is not None and summary.to_time is not None
    return summary.from_time, summary.to_time


def _span(summary: ExportSummary) -> str:
    start, end = _window(summary)
    return f"{_show(start)} to {_show(end)}"


def _json_object(raw: bytes, where: str) -> dict[str, Any]:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ExportFormatError(f"{where} is not JSON ({error})") from None
    if not isinstance(doc, dict):
        raise ExportFormatError(f"{where} is not a JSON object")
    return doc


def _member(doc: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = doc.get(name)
    if not isinstance(value, dict):
        raise ExportFormatError(f"{where}: a line has no {name} map")
    return value


def _stamp(doc: Mapping[str, Any]) -> int:
    number = ((doc.get("Metadata") or {}).get("WriteTimestampMicros") or {}).get("N")
    try:
        return int(str(number))
    except (TypeError, ValueError):
        return 0


def _time(value: object, name: str, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        moment = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        raise ExportFormatError(f"{where}: {name} {value!r} is not a time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _key_schema(value: object) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(value, list):
        return None
    pairs = [
        (str(k.get("AttributeName")), str(k.get("KeyType"))) for k in value if isinstance(k, dict)
    ]
    return tuple(sorted(pairs, key=lambda pair: pair[1]))
