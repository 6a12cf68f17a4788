"""moto's S3 server for the tests, and export files written as DynamoDB writes them.

The files follow DynamoDB's documented export format (see toolkit.logic.export_format's
opening comment): the tests make their own exports, they copy none.
"""

from __future__ import annotations

import contextlib
import gzip
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import orjson
from botocore.config import Config

from tests.helpers import free_port
from toolkit.logic.export_format import md5_base64
from toolkit.logic.ion_items import ion_line

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@contextlib.contextmanager
def s3_server(home: Path) -> Iterator[str]:
    port = free_port()
    log = (home / "moto.log").open("wb")
    moto = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(endpoint, process)
        yield endpoint
    finally:
        process.send_signal(signal.SIGINT)  # moto's server ignores SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(endpoint, timeout=2):
            return
        time.sleep(0.2)
    raise RuntimeError("moto_server did not answer within 60 s")


def s3_client(endpoint: str) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}),
    )


def s3_section(endpoint: str, **extra: Any) -> dict[str, Any]:
    host, port = endpoint.rsplit(":", 1)
    return {
        "region": "us-east-1",
        "endpoint": {"host": host, "port": int(port)},
        "credentials": {"accessKey": "test", "secretKey": "test"},
        "usePathStyleAccess": True,
        **extra,
    }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class ExportWriter:
    """Writes one export under prefix/AWSDynamoDB/<id>/ as DynamoDB does."""

    client: S3Client
    bucket: str
    prefix: str
    export_id: str
    table_arn: str = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    output_format: str = "DYNAMODB_JSON"
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def folder(self) -> str:
        return f"{self.prefix}/AWSDynamoDB/{self.export_id}"

    @property
    def summary_key(self) -> str:
        return f"{self.folder}/manifest-summary.json"

    def data_file(self, lines: Sequence[Mapping[str, Any]], name: str) -> None:
        text = b"".join(self._line(line) for line in lines)
        body = gzip.compress(text) if lines else b""
        key = f"{self.folder}/data/{name}.json.gz"
        answer = self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
        self.files.append(
            {
                "itemCount": len(lines),
                "md5Checksum": md5_base64(body),
                "etag": answer["ETag"].strip('"'),
                "dataFileS3Key": key,
            }
        )

    def finish(self, **times: datetime | str) -> str:
        manifest = b"".join(orjson.dumps(f) + b"\n" for f in self.files)
        files_key = f"{self.folder}/manifest-files.json"
        self.client.put_object(Bucket=self.bucket, Key=files_key, Body=manifest)
        summary: dict[str, Any] = {
            "version": "2020-06-30",
            "exportArn": f"{self.table_arn}/export/{self.export_id}",
            "startTime": iso(datetime.now(UTC)),
            "endTime": iso(datetime.now(UTC)),
            "tableArn": self.table_arn,
            "tableId": "12345a12-abcd-123a-ab12-1234abc12345",
            "s3Bucket": self.bucket,
            "s3Prefix": self.prefix,
            "s3SseAlgorithm": "AES256",
            "s3SseKmsKeyId": None,
            "manifestFilesS3Key": files_key,
            "billedSizeBytes": len(manifest),
            "itemCount": sum(f["itemCount"] for f in self.files),
            "outputFormat": self.output_format,
        }
        for name, value in times.items():
            summary[name] = iso(value) if isinstance(value, datetime) else value
        self.client.put_object(Bucket=self.bucket, Key=self.summary_key, Body=orjson.dumps(summary))
        return self.summary_key

    def _line(self, line: Mapping[str, Any]) -> bytes:
        if self.output_format == "ION":
            return ion_line(line)
        return orjson.dumps(line) + b"\n"


def files_done(state: Path) -> int:
    if not state.exists():
        return 0
    try:
        with sqlite3.connect(state, timeout=1) as db:
            return int(db.execute("SELECT COUNT(*) FROM export_files").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet
