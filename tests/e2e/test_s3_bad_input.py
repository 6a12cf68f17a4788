"""Bad input for S3 exports through the real CLI: one line, exit code 2, no table touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.test_s3_export import bucket, export_source, items
from tests.fakes.s3_server import ExportWriter, iso, s3_client, s3_section
from tests.refusals import Case
from tests.tables import create_table, section, write_config

if TYPE_CHECKING:
    pass


@pytest.fixture
def s3(s3_endpoint: str) -> tuple[str, str]:
    return s3_endpoint, bucket(s3_endpoint)


def an_export(s3: tuple[str, str], exported: datetime | None = None, **item: Any) -> str:
    writer = ExportWriter(s3_client(s3[0]), s3[1], "exp", "05000000000000-eeeeeeee")
    writer.data_file([{"Item": item or i} for i in items(3)], "part")
    return writer.finish(exportTime=exported or datetime.now(UTC))


def config(
    case: Case,
    s3: tuple[str, str],
    key: str,
    stream: bool = False,
    drop: tuple[str, ...] = (),
    manifests: list[str] | None = None,
) -> Path:
    source = export_source(s3[0], s3[1], key, case.endpoints, case.table)
    if manifests:
        source["manifestKey"] = manifests
    for name in drop:
        del source[name]
    target = section(case.endpoints.target, case.table, streamChanges=stream)
    return write_config(case.tmp / "config.yaml", source, target)


def test_a_missing_bucket_key(case: Case, s3: tuple[str, str]) -> None:
    path = config(case, s3, an_export(s3), drop=("bucket",))
    case.refused("migrate", path, "source.bucket is missing")


def test_a_bucket_that_does_not_exist(case: Case, s3: tuple[str, str]) -> None:
    case.refused(
        "migrate", config(case, (s3[0], "no-such-bucket-x"), an_export(s3)), "NoSuchBucket"
    )


def test_a_manifest_that_cannot_be_read(case: Case, s3: tuple[str, str]) -> None:
    case.source_table()
    line = case.refused("migrate", config(case, s3, "exp/nothing/manifest-summary.json"))
    assert "cannot read the export's manifest" in line and "NoSuchKey" in line


def test_a_manifest_that_is_not_an_export(case: Case, s3: tuple[str, str]) -> None:
    s3_client(s3[0]).put_object(Bucket=s3[1], Key="exp/x/manifest-summary.json", Body=b"{not json")
    case.refused("migrate", config(case, s3, "exp/x/manifest-summary.json"), "is not JSON")


def test_an_export_of_another_tables_key_schema(case: Case, s3: tuple[str, str]) -> None:
    case.source_table()
    key = an_export(s3, pk={"N": "1"}, v={"S": "x"})
    case.refused("migrate", config(case, s3, key), "key attribute id (S) is missing")


def test_an_export_older_than_the_stream(case: Case, s3: tuple[str, str]) -> None:
    case.source_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    key = an_export(s3, exported=datetime.now(UTC) - timedelta(hours=1))
    path = config(case, s3, key, stream=True)
    case.refused("migrate", path, "before the stream of table", "take a new export")


def test_stream_changes_from_an_export_without_a_live_table(
    case: Case, s3: tuple[str, str]
) -> None:
    path = config(case, s3, an_export(s3), stream=True, drop=("table", "tableEndpoint"))
    case.refused("migrate", path, "target.streamChanges needs source.table")


def test_an_export_target_path_that_holds_files(case: Case, s3: tuple[str, str]) -> None:
    case.source_table()
    s3_client(s3[0]).put_object(Bucket=s3[1], Key="old/manifest-summary.json", Body=b"{}")
    target = {"type": "dynamodb-s3-export", "path": f"s3://{s3[1]}/old", **s3_section(s3[0])}
    path = write_config(
        case.tmp / "config.yaml", section(case.endpoints.source, case.table), target
    )
    case.refused("migrate", path, "already holds files")


@pytest.mark.parametrize("command", ["verify", "mutate"])
def test_verify_or_mutate_an_export_without_a_live_table(
    case: Case, s3: tuple[str, str], command: str
) -> None:
    path = config(case, s3, an_export(s3), drop=("table", "tableEndpoint"))
    case.refused(command, path, "source.table")


DATA = "exp/AWSDynamoDB/05000000000000-eeeeeeee/data"


def test_a_data_file_rewritten_where_the_export_was_written(
    case: Case, s3: tuple[str, str]
) -> None:
    case.source_table()
    key = an_export(s3)
    client = s3_client(s3[0])
    body = client.get_object(Bucket=s3[1], Key=f"{DATA}/part.json.gz")["Body"].read()
    client.put_object(Bucket=s3[1], Key=f"{DATA}/part.json.gz", Body=body[:-4] + b"\0\0\0\0")
    line = case.refused("migrate", config(case, s3, key), f"{DATA}/part.json.gz")
    assert "rewritten after the export was written" in line


def test_a_damaged_data_file_in_a_copy_of_the_export(case: Case, s3: tuple[str, str]) -> None:
    # In another bucket the ETag proves nothing (a copy may be made in parts, or under
    # SSE-KMS): the MD5 checksum finds it, when the first item is read.
    case.source_table()
    key = an_export(s3)
    client, copy = s3_client(s3[0]), bucket(s3[0])
    for entry in client.list_objects_v2(Bucket=s3[1])["Contents"]:
        body = client.get_object(Bucket=s3[1], Key=entry["Key"])["Body"].read()
        if entry["Key"].endswith("part.json.gz"):
            body = body[:-4] + b"\0\0\0\0"
        client.put_object(Bucket=copy, Key=entry["Key"], Body=body)
    path = config(case, (s3[0], copy), key)
    case.refused("migrate", path, "does not match its MD5 checksum", f"{DATA}/part.json.gz")


def test_data_files_missing_or_cut_short(case: Case, s3: tuple[str, str]) -> None:
    case.source_table()
    writer = ExportWriter(s3_client(s3[0]), s3[1], "exp", "05000000000000-eeeeeeee")
    for name in ("a", "b", "c"):
        writer.data_file([{"Item": i} for i in items(3)], name)
    key = writer.finish(exportTime=datetime.now(UTC))
    # b's own bytes, to put back: a copy of a would differ in its gzip header's time
    # whenever the two were written in different seconds, and so in its ETag.
    kept = writer.client.get_object(Bucket=s3[1], Key=f"{DATA}/b.json.gz")["Body"].read()
    writer.client.delete_object(Bucket=s3[1], Key=f"{DATA}/b.json.gz")
    writer.client.put_object(Bucket=s3[1], Key=f"{DATA}/c.json.gz", Body=b"")
    line = case.refused("migrate", config(case, s3, key), f"{DATA}/b.json.gz is missing")
    assert "(1 more of its data files too)" in line and "copy its files again" in line
    writer.client.put_object(Bucket=s3[1], Key=f"{DATA}/b.json.gz", Body=kept)
    line = case.refused("migrate", config(case, s3, key), f"{DATA}/c.json.gz is 0 bytes")
    assert "too few for the 3 items manifest-files.json counts in it" in line


def test_an_incremental_export_that_ends_before_the_full_export(
    case: Case, s3: tuple[str, str]
) -> None:
    # Issue 23's case: laid over the full export, the older window's states won.
    case.source_table()
    taken = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    full = an_export(s3, exported=taken)
    older = ExportWriter(s3_client(s3[0]), s3[1], "exp", "04000000000000-dddddddd")
    deleted = {"Metadata": {"WriteTimestampMicros": {"N": "1"}}, "Keys": {"id": {"S": "k00001"}}}
    older.data_file([deleted], "old")
    window = (taken - timedelta(hours=2), taken - timedelta(hours=1))
    incremental = older.finish(
        exportType="INCREMENTAL_EXPORT", exportFromTime=window[0], exportToTime=window[1]
    )
    path = config(case, s3, full, manifests=[full, incremental])
    line = case.refused("migrate", path, incremental, full, "ends at or before the full export")
    assert all(iso(moment) in line for moment in (taken, *window))


def test_an_export_whose_key_schema_differs_from_the_live_tables(
    case: Case, s3: tuple[str, str]
) -> None:
    create_table(case.source, case.table, keys=(("id", "N"),))
    case.refused("migrate", config(case, s3, an_export(s3)), "has key schema [id (N, HASH)]")


def test_verify_of_an_export_target(case: Case, s3: tuple[str, str]) -> None:
    case.source_table()
    target = {"type": "dynamodb-s3-export", "path": f"s3://{s3[1]}/v", **s3_section(s3[0])}
    source = section(case.endpoints.source, case.table)
    path = write_config(case.tmp / "config.yaml", source, target)
    case.refused("verify", path, "verify compares two tables")


def test_a_data_file_with_fewer_items_than_its_manifest_says(
    case: Case, s3: tuple[str, str]
) -> None:
    case.source_table()
    key = an_export(s3)
    client = s3_client(s3[0])
    folder = key.rpartition("/")[0]
    for name in ("manifest-files.json", "manifest-summary.json"):
        body = client.get_object(Bucket=s3[1], Key=f"{folder}/{name}")["Body"].read()
        body = body.replace(b'"itemCount":3', b'"itemCount":4')
        client.put_object(Bucket=s3[1], Key=f"{folder}/{name}", Body=body)

    result = case.run("migrate", config(case, s3, key))

    assert result.returncode == 2 and "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert "holds 3 lines, but manifest-files.json says 4" in line
