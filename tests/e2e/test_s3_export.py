"""S3 exports through the real CLI: a table written as an export and read back, on moto's S3."""

from __future__ import annotations

import base64
import gzip
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tests.conftest import Endpoints
from tests.fakes.s3_server import files_done, s3_client, s3_section
from tests.helpers import REPO, run_cli
from tests.tables import create_table, load, section, table_state, write_config
from toolkit.logic.export_format import md5_base64

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DESCRIPTION = {
    "attributeDefinitions": [{"name": "id", "type": "S"}],
    "keySchema": [{"name": "id", "type": "HASH"}],
}


def items(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": {"S": f"k{n:05d}"},
            "n": {"N": str(n * 7)},
            "b": {"B": base64.b64encode(bytes([n % 256, 1, 2])).decode()},
            "ss": {"SS": ["a", f"s{n % 5}"]},
            "m": {"M": {"l": {"L": [{"N": "1.5"}, {"NULL": True}, {"BOOL": n % 2 == 0}]}}},
        }
        for n in range(count)
    ]


def bucket(endpoint: str) -> str:
    name = f"exports-{uuid.uuid4().hex[:10]}"
    s3_client(endpoint).create_bucket(Bucket=name)
    return name


def export_source(s3: str, name: str, key: str, endpoints: Endpoints, table: str) -> dict[str, Any]:
    host, port = endpoints.source.rsplit(":", 1)
    return {
        "type": "dynamodb-s3-export",
        "bucket": name,
        "manifestKey": key,
        "tableDescription": DESCRIPTION,
        "table": table,
        "tableEndpoint": {"host": host, "port": int(port)},
        **s3_section(s3),
    }


def export_target(s3: str, path: str) -> dict[str, Any]:
    return {"type": "dynamodb-s3-export", "path": path, **s3_section(s3)}


SUMMARY = "backups/one/manifest-summary.json"


def test_a_table_written_as_an_export_reads_back_identical(
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(1200), ["id"])
    name = bucket(s3_endpoint)
    to_export = write_config(
        tmp_path / "backup.yaml",
        section(endpoints.source, table_name, scanSegments=3),
        {
            "type": "dynamodb-s3-export",
            "path": f"s3://{name}/backups/one",
            **s3_section(s3_endpoint),
        },
    )

    written = run_cli("migrate", "--config", str(to_export))

    assert written.returncode == 0, written.stderr
    client = s3_client(s3_endpoint)
    summary = orjson.loads(client.get_object(Bucket=name, Key=SUMMARY)["Body"].read())
    assert summary["itemCount"] == 1200 and summary["outputFormat"] == "DYNAMODB_JSON"
    manifest = client.get_object(Bucket=name, Key=summary["manifestFilesS3Key"])["Body"].read()
    assert summary["manifestFilesMd5Checksum"] == md5_base64(manifest)
    files = [orjson.loads(line) for line in manifest.splitlines()]
    assert len(files) == 3 and sum(f["itemCount"] for f in files) == 1200
    uncompressed = gzipped = 0
    for entry in files:
        body = client.get_object(Bucket=name, Key=entry["dataFileS3Key"])["Body"].read()
        assert md5_base64(body) == entry["md5Checksum"]
        uncompressed, gzipped = uncompressed + len(gzip.decompress(body)), gzipped + len(body)
        lines = gzip.decompress(body).splitlines()
        assert len(lines) == entry["itemCount"]
        assert all(set(orjson.loads(line)) == {"Item"} for line in lines)

    from_export = write_config(
        tmp_path / "restore.yaml",
        export_source(
            s3_endpoint, name, "backups/one/manifest-summary.json", endpoints, table_name
        ),
        section(endpoints.target, table_name),
    )
    restored = run_cli("migrate", "--config", str(from_export))

    assert restored.returncode == 0, restored.stderr
    # Both count the items as uncompressed DynamoDB JSON, not the gzipped files.
    size = f"{uncompressed / 1e6:.1f} MB"
    assert size != f"{gzipped / 1e6:.1f} MB"  # so that the lines below tell them apart
    assert f"Snapshot done: 1200 items, {size}," in written.stdout
    assert f"Snapshot done: 1200 items, {size}," in restored.stdout
    identical_and_verified(endpoints, table_name, from_export)


def test_an_export_then_the_live_tables_stream(
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    # The stream first, then the export: every change after the export is in the stream.
    create_table(
        source_client,
        table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    load(endpoints.source, table_name, items(300), ["id"])
    name = bucket(s3_endpoint)
    to_export = write_config(
        tmp_path / "backup.yaml",
        section(endpoints.source, table_name, scanSegments=2),
        export_target(s3_endpoint, f"s3://{name}/snap"),
    )
    assert run_cli("migrate", "--config", str(to_export)).returncode == 0
    for n in range(0, 40, 2):  # changes after the export: only the stream has them
        source_client.delete_item(TableName=table_name, Key={"id": {"S": f"k{n:05d}"}})
    source_client.put_item(TableName=table_name, Item={"id": {"S": "late"}, "v": {"N": "1"}})
    config = write_config(
        tmp_path / "config.yaml",
        export_source(s3_endpoint, name, "snap/manifest-summary.json", endpoints, table_name),
        section(endpoints.target, table_name, streamChanges=True),
    )

    result = run_cli("migrate", "--config", str(config), "--stop-when-drained", timeout=300)

    assert result.returncode == 0, result.stderr
    assert "Snapshot done: 300 items" in result.stdout
    identical_and_verified(endpoints, table_name, config)


def test_an_export_killed_mid_write_resumes_with_the_segments_not_uploaded(
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(12000), ["id"])
    name = bucket(s3_endpoint)
    config = write_config(
        tmp_path / "backup.yaml",
        section(endpoints.source, table_name, scanSegments=24, maxMapTasks=1),
        export_target(s3_endpoint, f"s3://{name}/killed"),
    )
    state = tmp_path / "run.sqlite"
    args = ["-m", "toolkit", "migrate", "--config", str(config), "--state", str(state)]
    process = subprocess.Popen([sys.executable, *args], cwd=REPO, stderr=subprocess.DEVNULL)
    try:
        while files_done(state) < 2:
            assert process.poll() is None, "the export ended before it could be killed"
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert files_done(state) < 24

    resumed = run_cli("migrate", "--config", str(config), "--state", str(state))

    assert resumed.returncode == 0, resumed.stderr
    assert int(resumed.stdout.split("Snapshot done: ")[1].split(" items")[0]) < 12000
    client = s3_client(s3_endpoint)
    summary = orjson.loads(
        client.get_object(Bucket=name, Key="killed/manifest-summary.json")["Body"].read()
    )
    manifest = client.get_object(Bucket=name, Key=summary["manifestFilesS3Key"])["Body"].read()
    ids = []
    for entry in (orjson.loads(line) for line in manifest.splitlines()):
        body = client.get_object(Bucket=name, Key=entry["dataFileS3Key"])["Body"].read()
        ids += [
            orjson.loads(line)["Item"]["id"]["S"] for line in gzip.decompress(body).splitlines()
        ]
    assert summary["itemCount"] == 12000 and sorted(ids) == [f"k{n:05d}" for n in range(12000)]


def test_renames_apply_to_the_items_of_an_export(
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(50), ["id"])
    name = bucket(s3_endpoint)
    renames = [{"from": "n", "to": "number"}]
    to_export = write_config(
        tmp_path / "backup.yaml",
        section(endpoints.source, table_name),
        export_target(s3_endpoint, f"s3://{name}/renamed"),
        renames=renames,
    )
    assert run_cli("migrate", "--config", str(to_export)).returncode == 0
    # Read back as it is: its items carry the new name already.
    from_export = write_config(
        tmp_path / "restore.yaml",
        export_source(s3_endpoint, name, "renamed/manifest-summary.json", endpoints, table_name),
        section(endpoints.target, table_name),
        renames=renames,
    )

    restored = run_cli("migrate", "--config", str(from_export))

    assert restored.returncode == 0, restored.stderr
    target = table_state(endpoints.target, table_name, ["id"])
    assert len(target) == 50 and all("number" in i and "n" not in i for i in target.values())
    verified = run_cli("verify", "--config", str(from_export), "--both-directions")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_an_export_to_a_local_folder_in_the_scylla_migrators_layout(
    endpoints: Endpoints,
    s3_endpoint: str,
    source_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    create_table(source_client, table_name)
    load(endpoints.source, table_name, items(200), ["id"])
    folder = tmp_path / "exports" / "basic"
    to_folder = write_config(
        tmp_path / "backup.yaml",
        section(endpoints.source, table_name, scanSegments=2),
        {"type": "dynamodb-s3-export", "path": str(folder)},
    )

    written = run_cli("migrate", "--config", str(to_folder))

    assert written.returncode == 0, written.stderr
    summary = orjson.loads((folder / "manifest-summary.json").read_bytes())
    # As the Migrator writes it: no bucket, keys relative to the folder, the key schema.
    assert "s3Bucket" not in summary and summary["manifestFilesS3Key"] == "manifest-files.json"
    assert summary["tableKeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    files = [orjson.loads(line) for line in (folder / "manifest-files.json").read_bytes().split()]
    assert sorted(f["dataFileS3Key"] for f in files) == ["data/00000.json.gz", "data/00001.json.gz"]
    # The folder copied into a bucket as it is reads back as an export source.
    name, client = bucket(s3_endpoint), s3_client(s3_endpoint)
    for path in folder.rglob("*"):
        if path.is_file():
            key = f"copied/{path.relative_to(folder)}"
            client.put_object(Bucket=name, Key=key, Body=path.read_bytes())
    from_export = write_config(
        tmp_path / "restore.yaml",
        export_source(s3_endpoint, name, "copied/manifest-summary.json", endpoints, table_name),
        section(endpoints.target, table_name),
    )

    restored = run_cli("migrate", "--config", str(from_export))

    assert restored.returncode == 0, restored.stderr
    verified = run_cli("verify", "--config", str(from_export), "--both-directions")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def identical_and_verified(endpoints: Endpoints, table: str, config: Path) -> None:
    """Both tables hold the same items, and `toolkit verify --both-directions` says so."""
    assert table_state(endpoints.target, table, ["id"]) == table_state(
        endpoints.source, table, ["id"]
    )
    verified = run_cli("verify", "--config", str(config), "--both-directions")
    assert verified.returncode == 0, verified.stdout + verified.stderr
