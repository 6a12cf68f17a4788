"""State files made before issue 25, and what the runs that made them read and wrote.

tests/data/state_before_25/make.py made them with the code of tag issue25-base (a
`toolkit migrate` stopped part-way in each case); tests/test_state_before_25.py
resumes them with the code of today. Both build the same tables, items, exports and
configs from here: every name, key and item is fixed, so a test rebuilds a source
exactly as the stopped run saw it (DynamoDB Local's scan segments depend on the keys
only), and the last keys the state recorded exist in it again.
"""

from __future__ import annotations

import base64
import gzip
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tests.fakes.s3_server import s3_section
from tests.helpers import REPO
from tests.tables import plane, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

FIXTURES = REPO / "tests" / "data" / "state_before_25"
STATE = "state.sqlite"
Item = dict[str, Any]
Change = tuple[str, Item]  # ("put", item) or ("delete", key)


def item(name: str, n: int) -> Item:
    """An item with a number, a binary, a set and a nested map: every kind of attribute."""
    return {
        "id": {"S": name},
        "n": {"N": str(n * 7)},
        "b": {"B": base64.b64encode(bytes([n % 256, 1, 2])).decode()},
        "ss": {"SS": ["a", f"s{n % 5}"]},
        "m": {"M": {"l": {"L": [{"N": "1.5"}, {"NULL": True}, {"BOOL": n % 2 == 0}]}}},
    }


def items(count: int, prefix: str = "k") -> list[Item]:
    return [item(f"{prefix}{n:04d}", n) for n in range(count)]


def key(name: str) -> Item:
    return {"id": {"S": name}}


@dataclass(frozen=True)
class TableCase:
    """A table source: its table (the same name on the target), items and scan."""

    folder: str  # under FIXTURES
    table: str
    count: int  # items k0000..k{count-1}
    segments: int

    @property
    def fixture(self) -> Path:
        return FIXTURES / self.folder

    def items(self) -> list[Item]:
        return items(self.count)


# a. table -> table, snapshot only, 20 items a Scan page: two segments done, one part-way.
SNAPSHOT = TableCase("snapshot", "before25_snapshot", 400, 4)
PAGE_ITEMS = 20
# c. table -> an export: two segments' data files written and recorded, two not.
TO_FOLDER = TableCase("export_folder", "before25_to_folder", 300, 4)
TO_S3 = TableCase("export_s3", "before25_to_s3", 300, 4)
FOLDER_PATH = "export"  # relative: the run's folder is its working directory
TARGET_BUCKET, TARGET_PREFIX = "before25-export-target", "backup"
# d. table -> table with its stream: the snapshot copied, the stream replayed part-way.
REPLAY = TableCase("replay", "before25_replay", 100, 2)
FIXED_ARN = (
    f"arn:aws:dynamodb:ddblocal:000000000000:table/{REPLAY.table}/stream/2025-01-01T00:00:00.000"
)
STREAM_PARTITIONS = 4


def snapshot_config(path: Path, source: str, target: str, case: TableCase = SNAPSHOT) -> Path:
    return write_config(
        path,
        section(source, case.table, scanSegments=case.segments, maxMapTasks=1),
        section(target, case.table, streamChanges=case is REPLAY),
    )


def export_target_config(path: Path, source: str, s3: str | None) -> Path:
    """TO_S3 with moto's endpoint ``s3``; TO_FOLDER without."""
    case = TO_FOLDER if s3 is None else TO_S3
    target: dict[str, Any] = {"type": "dynamodb-s3-export", "path": FOLDER_PATH}
    if s3 is not None:
        target = {**target, "path": f"s3://{TARGET_BUCKET}/{TARGET_PREFIX}", **s3_section(s3)}
    return write_config(
        path, section(source, case.table, scanSegments=case.segments, maxMapTasks=1), target
    )


def changes_before_stop() -> list[Change]:
    """What the replay applied before its stop: new items, changed ones, deleted ones."""
    return [
        *(("put", item(f"a{n:03d}", 500 + n)) for n in range(8)),
        *(("put", item(f"k{n:04d}", 900 + n)) for n in range(0, 6)),
        *(("delete", key(f"k{n:04d}")) for n in range(10, 16)),
    ]


def changes_after_stop() -> list[Change]:
    """What the source's application did while the run was stopped: other keys."""
    return [
        *(("put", item(f"b{n:03d}", 700 + n)) for n in range(5)),
        *(("put", item(f"k{n:04d}", 950 + n)) for n in range(20, 25)),
        *(("delete", key(f"k{n:04d}")) for n in range(30, 35)),
    ]


def apply(table: dict[str, Item], changes: Iterable[Change]) -> dict[str, Item]:
    """A table by its id after the changes, in order (a new dict)."""
    after = dict(table)
    for kind, image in changes:
        if kind == "put":
            after[image["id"]["S"]] = image
        else:
            after.pop(image["id"]["S"], None)
    return after


def write_changes(endpoint: str, table: str, changes: Iterable[Change]) -> None:
    """One at a time, in order (the stream gets them in this order), in wire form."""
    writer = plane(endpoint)
    for kind, image in changes:
        if kind == "put":
            writer.call("PutItem", {"TableName": table, "Item": image})
        else:
            writer.call("DeleteItem", {"TableName": table, "Key": image})


# b. an S3 export source (a full export, then an incremental one) -> table.
EXPORT_LOAD = "before25_export_source"
SOURCE_BUCKET, SOURCE_PREFIX = "before25-exports", "exports"
FULL_ID, INCREMENTAL_ID = "01700000000000-aaaaaaaa", "01800000000000-bbbbbbbb"
DESCRIPTION = {
    "attributeDefinitions": [{"name": "id", "type": "S"}],
    "keySchema": [{"name": "id", "type": "HASH"}],
}


def summary_key(export_id: str) -> str:
    return f"{SOURCE_PREFIX}/AWSDynamoDB/{export_id}/manifest-summary.json"


def export_source_config(path: Path, s3: str, target: str) -> Path:
    source = {
        "type": "dynamodb-s3-export",
        "bucket": SOURCE_BUCKET,
        "manifestKey": [summary_key(FULL_ID), summary_key(INCREMENTAL_ID)],
        "tableDescription": DESCRIPTION,
        "maxMapTasks": 1,
        **s3_section(s3),
    }
    return write_config(path, source, section(target, EXPORT_LOAD))


def full_files() -> list[list[Item]]:
    """The full export's data files: 20 items each (one BatchWriteItem a file)."""
    everything = items(60)
    return [[{"Item": i} for i in everything[n : n + 20]] for n in range(0, 60, 20)]


def incremental_files() -> list[list[Item]]:
    """Two files of changes: to items of every full file (done or not), and new ones."""

    def change(name: str, image: Item | None) -> Item:
        line: Item = {"Metadata": {"WriteTimestampMicros": {"N": "1"}}, "Keys": key(name)}
        return line if image is None else {**line, "NewImage": image}

    first = [change(f"k{n:04d}", item(f"k{n:04d}", 300 + n)) for n in range(0, 5)]
    first += [change(f"k{n:04d}", None) for n in range(20, 25)]
    first += [change(f"n{n:03d}", item(f"n{n:03d}", n)) for n in range(5)]
    second = [change(f"k{n:04d}", item(f"k{n:04d}", 400 + n)) for n in range(40, 45)]
    second += [change(f"k{n:04d}", None) for n in range(50, 53)]
    second += [change(f"n{n:03d}", item(f"n{n:03d}", n)) for n in range(10, 15)]
    return [first, second]


def export_changes(body: bytes) -> list[Change]:
    """A data file's lines (gzipped) as changes: a full export's items, or an
    incremental export's new images and deletes."""
    found: list[Change] = []
    for line in gzip.decompress(body).splitlines() if body else []:
        doc = orjson.loads(line)
        if "Item" in doc:
            found.append(("put", doc["Item"]))
        elif "NewImage" in doc:
            found.append(("put", doc["NewImage"]))
        else:
            found.append(("delete", doc["Keys"]))
    return found


def upload(client: S3Client, bucket: str, folder: Path) -> None:
    """Every file under ``folder`` into ``bucket``, keyed by its path under the folder."""
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            client.put_object(
                Bucket=bucket, Key=path.relative_to(folder).as_posix(), Body=path.read_bytes()
            )


def download(client: S3Client, bucket: str, folder: Path) -> list[str]:
    """Every object of ``bucket`` into ``folder``, by its key; the keys, sorted."""
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    keys = sorted(entry["Key"] for entry in listed)
    for name in keys:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(client.get_object(Bucket=bucket, Key=name)["Body"].read())
    return keys


# What a state file recorded, read directly (the schema of tag issue25-base).


def recorded(state: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows of a state file no run holds, read in place (nothing written beside it)."""
    with closing(sqlite3.connect(f"file:{state}?mode=ro&immutable=1", uri=True)) as db:
        return list(db.execute(query).fetchall())


def segments_recorded(state: Path) -> list[tuple[int, Item | None, int, int, bool]]:
    """(segment, last key, items, pages, done) of each segment."""
    rows = recorded(state, "SELECT segment, last_key, items, pages, done FROM segments")
    return [(s, orjson.loads(k) if k else None, n, p, bool(d)) for s, k, n, p, d in sorted(rows)]


def files_recorded(state: Path) -> dict[str, int]:
    """Data files recorded as done (read into the target, or written): key -> items."""
    return dict(recorded(state, "SELECT file_key, items FROM export_files"))


def segment_pages(
    client: DynamoDBClient, table: str, segment: int, total: int, page: int | None = None
) -> list[list[Item]]:
    """One scan segment's pages of items, in order (the last one may be empty)."""
    pages: list[list[Item]] = []
    request: dict[str, Any] = {"TableName": table, "Segment": segment, "TotalSegments": total}
    if page is not None:
        request["Limit"] = page
    while True:
        answer = client.scan(**request)
        pages.append(answer["Items"])
        if "LastEvaluatedKey" not in answer:
            return pages
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def names(found: Sequence[Item]) -> list[str]:
    return [i["id"]["S"] for i in found]
