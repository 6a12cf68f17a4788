"""S3 exports on the Spark engine through the real CLI, on local[2].

An export source's data files, and an export target's scan segments (one data file
each), are Spark tasks; the driver records each when its task ends. Each test kills
the driver with kill -9 mid-copy, then runs the same command again: what was
recorded is not copied again, and the end is what one whole run would make. Every
`--engine spark` run is a Spark driver of its own (a JVM), so each test runs two.
"""

from __future__ import annotations

import gzip
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tests.conftest import Endpoints
from tests.e2e.test_s3_export import bucket, export_source, export_target, identical_and_verified
from tests.e2e.test_s3_export import items as made_items
from tests.e2e.test_s3_export_files import change
from tests.e2e.test_spark import SPARK, copied, run, spark_environment
from tests.fakes.s3_server import ExportWriter, s3_client
from tests.helpers import run_cli
from tests.scenario import Run
from tests.tables import create_table, load, section, table_state, write_config
from toolkit.logic.export_format import md5_base64

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

FULL_FILES = 8
PER_FILE = 500
ITEMS = FULL_FILES * PER_FILE
SEGMENTS = 8
Files = dict[str, tuple[int, Any]]  # file key -> (items, detail), as the state records them
__all__ = ["run", "spark_environment"]  # the fixtures, used here too


def files_recorded(state: Path) -> Files:
    """The data files recorded done, read as another process would."""
    try:
        with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT file_key, items, detail FROM export_files").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return {}
    return {key: (count, orjson.loads(d) if d else None) for key, count, d in rows}


def killed_mid_copy(run: Run, files: int) -> tuple[Files, str]:
    """Start the run on Spark, kill -9 its driver once some files are recorded, not all."""
    first = run.migrate(*SPARK)
    run.wait_until("a recorded data file", lambda: len(files_recorded(run.state)) >= 2, first)
    run.kill(first)
    killed = files_recorded(run.state)
    assert 0 < len(killed) < files, f"the kill must land mid-copy: {len(killed)} of {files}"
    return killed, run.output(first)[1]


def resumed(run: Run, killed: tuple[Files, str], opening: str, files: int, items: int) -> None:
    """The same command again, to its end: both runs open with ``opening`` (which names
    the engine), and it copies only the files not recorded before the kill, once each."""
    recorded, err = killed
    out, resumed_err = run.finish(run.migrate(*SPARK))
    assert opening in err and opening in resumed_err, resumed_err
    assert copied(out) == items - sum(count for count, _ in recorded.values())
    after = files_recorded(run.state)
    assert len(after) == files and all(after[key] == recorded[key] for key in recorded)
    assert sum(count for count, _ in after.values()) == items


def keys(numbers: Iterable[int]) -> list[str]:
    return [f"k{n:05d}" for n in numbers]


Change = tuple[int, "dict[str, Any] | None"]  # an item's number, its new image (None: deleted)


def incremental_files() -> list[list[list[Change]]]:
    """Two INCREMENTAL exports of two data files each, one change per key in each export:
    every 97th item deleted, every 97th from the 50th changed, new ones put; then half
    of the deleted back, half of the changed changed again, half of the new deleted."""
    item = made_items(ITEMS + 40)
    return [
        [
            [(n, None) for n in range(0, ITEMS, 97)],
            [(n, {**item[n], "n": {"N": "-1"}}) for n in range(50, ITEMS, 97)]
            + [(n, {"id": item[n]["id"], "x": {"S": "new"}}) for n in range(ITEMS, ITEMS + 40)],
        ],
        [
            [(n, {**item[n], "n": {"N": "42"}}) for n in range(0, ITEMS, 194)]
            + [(n, {**item[n], "n": {"N": "7"}}) for n in range(50, ITEMS, 194)],
            [(n, None) for n in range(ITEMS, ITEMS + 40, 2)],
        ],
    ]


def write_exports(client: S3Client, name: str) -> tuple[list[str], dict[str, list[str]]]:
    """A FULL export of ITEMS items, PER_FILE to a data file, then the incremental ones:
    their summaries' keys, and the keys of each full file's items no change touches."""
    start = datetime.now(UTC) - timedelta(hours=2)
    everything = made_items(ITEMS)
    full = ExportWriter(client, name, "exp", "01000000000000-aaaaaaaa")
    for f in range(FULL_FILES):
        full.data_file(
            [{"Item": i} for i in everything[f * PER_FILE : (f + 1) * PER_FILE]], f"p{f}"
        )
    summaries = [full.finish(exportTime=start)]
    for e, export in enumerate(incremental_files()):
        writer = ExportWriter(client, name, "exp", f"0{e + 2}000000000000-bbbbbbb{e}")
        for f, changes in enumerate(export):
            writer.data_file([change(n, image, 10 * e + f) for n, image in changes], f"c{f}")
        window = (start + timedelta(hours=e), start + timedelta(hours=e + 1))
        summaries.append(
            writer.finish(
                exportType="INCREMENTAL_EXPORT", exportFromTime=window[0], exportToTime=window[1]
            )
        )
    touched = {n for export in incremental_files() for f in export for n, _ in f}
    untouched = {
        entry["dataFileS3Key"]: keys(
            n for n in range(f * PER_FILE, (f + 1) * PER_FILE) if n not in touched
        )
        for f, entry in enumerate(full.files)
    }
    return summaries, untouched


def expected_items() -> list[dict[str, Any]]:
    """What the exports lead to: the full one, then each incremental one in order."""
    table = dict(enumerate(made_items(ITEMS)))
    for export in incremental_files():
        for n, image in (c for f in export for c in f):
            if image is None:
                del table[n]
            else:
                table[n] = image
    return list(table.values())


def test_an_export_source_on_spark_killed_mid_load_resumes_with_the_files_not_recorded(
    run: Run,
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
) -> None:
    name = bucket(s3_endpoint)
    summaries, per_file = write_exports(s3_client(s3_endpoint), name)
    lines = ITEMS + sum(len(f) for export in incremental_files() for f in export)
    # The live table holds what the exports lead to: the end is compared with it.
    create_table(source_client, table_name)
    load(endpoints.source, table_name, expected_items(), ["id"])
    write_config(
        run.config,
        {
            **export_source(s3_endpoint, name, summaries[0], endpoints, table_name),
            "manifestKey": [summaries[2], summaries[0], summaries[1]],
            "maxMapTasks": 2,
        },
        section(endpoints.target, table_name),
    )
    files = FULL_FILES + 4

    killed, err = killed_mid_copy(run, files)
    # Items of the files recorded done, which no incremental export touches, are deleted
    # from the target: a resume that loaded those files again would bring them back.
    gone = {k for key in killed for k in per_file.get(key, [])}
    assert gone, f"no full export's file among those recorded: {sorted(killed)}"
    for k in gone:
        target_client.delete_item(TableName=table_name, Key={"id": {"S": k}})
    opening = f"into {table_name}: {files} data files, 2 at a time, on the spark engine"
    resumed(run, (killed, err), opening, files, lines)
    # The incremental exports were applied after the full one, in their order: the
    # target is the expected table but for the items deleted above.
    source = table_state(endpoints.source, table_name, ["id"])
    expected = {key: item for key, item in source.items() if item["id"]["S"] not in gone}
    assert table_state(endpoints.target, table_name, ["id"]) == expected


def test_a_table_to_an_export_on_spark_killed_mid_copy_resumes_and_reads_back_identical(
    run: Run,
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, made_items(ITEMS), ["id"])
    name, client = bucket(s3_endpoint), s3_client(s3_endpoint)
    write_config(
        run.config,
        section(endpoints.source, table_name, scanSegments=SEGMENTS, maxMapTasks=2),
        export_target(s3_endpoint, f"s3://{name}/spark"),
    )

    killed, err = killed_mid_copy(run, SEGMENTS)
    uploaded = {key: modified(client, name, f"spark/{key}") for key in killed}
    opening = f"into s3://{name}/spark: {SEGMENTS} segments, 2 at a time, on the spark engine"
    resumed(run, (killed, err), opening, SEGMENTS, ITEMS)
    # The files uploaded before the kill are the ones the manifest lists: not written again.
    assert {key: modified(client, name, f"spark/{key}") for key in killed} == uploaded
    summary = orjson.loads(
        client.get_object(Bucket=name, Key="spark/manifest-summary.json")["Body"].read()
    )
    manifest = client.get_object(Bucket=name, Key=summary["manifestFilesS3Key"])["Body"].read()
    assert summary["itemCount"] == ITEMS
    assert summary["manifestFilesMd5Checksum"] == md5_base64(manifest)
    listed = [orjson.loads(line) for line in manifest.splitlines()]
    names = [f"spark/data/{n:05d}.json.gz" for n in range(SEGMENTS)]
    assert sorted(entry["dataFileS3Key"] for entry in listed) == names
    ids = []
    for entry in listed:
        body = client.get_object(Bucket=name, Key=entry["dataFileS3Key"])["Body"].read()
        assert md5_base64(body) == entry["md5Checksum"], entry
        lines = gzip.decompress(body).splitlines()
        assert len(lines) == entry["itemCount"], entry
        ids += [orjson.loads(line)["Item"]["id"]["S"] for line in lines]
    assert sorted(ids) == keys(range(ITEMS))

    restore = write_config(
        tmp_path / "restore.yaml",
        export_source(s3_endpoint, name, "spark/manifest-summary.json", endpoints, table_name),
        section(endpoints.target, table_name),
    )
    restored = run_cli("migrate", "--config", str(restore))
    assert restored.returncode == 0, restored.stderr
    identical_and_verified(endpoints, table_name, restore)


def modified(client: S3Client, name: str, key: str) -> tuple[str, datetime]:
    head = client.head_object(Bucket=name, Key=key)
    return head["ETag"], head["LastModified"]
