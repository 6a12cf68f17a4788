"""`target.type: dynamodb-s3-export`: the source table written as an export.

Each scan segment becomes one data file, data/NNNNN.json.gz of {"Item": ...} lines
in DYNAMODB_JSON, spooled as it is scanned, uploaded once whole, and only then
recorded (a restart scans the unfinished segments again and overwrites their
files). When every segment is written, manifest-files.json (item count, MD5 and
ETag of each file) and manifest-summary.json are written last, so an export
without its summary is an unfinished one. The layout is the Scylla Migrator's
(files right under target.path), with AWS's keys from the bucket's root: it reads
back as a `dynamodb-s3-export` source, and DynamoDB's Import from S3 takes its
data/ prefix. A Scan is not a point in time: exportTime is when the scan started.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from tempfile import SpooledTemporaryFile
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.config.exports import ExportTarget
from toolkit.connectors.base import Claim, CopyJob, Described, Part, Recorded, Request
from toolkit.connectors.s3_export.manifests import Export, write_manifests
from toolkit.errors import UserError
from toolkit.logic.export_format import item_line
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.s3_store import LocalStore, Store, s3_store
from toolkit.wire.writer import BatchWriter

log = logging.getLogger("migrator")
SPOOL_BYTES = 64 * 1024 * 1024  # a data file is kept in memory up to this size


class ExportTargetSide:
    takes_changes: bool = False

    def __init__(self, config: MigrationConfig, *_: Any) -> None:
        target = config.target.s3_export
        assert target is not None  # this kind's config
        self.config, self.target = config, target
        self.store = _store(config, target)
        self.name = self.store.url(_prefix(target))
        self.local_files = target.bucket is None
        self.export: Export | None = None  # once begun

    def check(self, described: Described) -> None:
        """Before the state file is made: a bucket that answers, or a path that can be a folder."""
        if self.target.bucket is not None:
            self.store.holds_any(f"{self.target.prefix}/" if self.target.prefix else "")
            return
        folder = Path(self.target.prefix)
        existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
        if not existing.is_dir():
            raise UserError(
                f"target.path {folder}: {existing} is a file, not a folder; give a folder's path"
            )

    def claims(self) -> list[Claim]:
        path = self.config.target.table
        return [Claim("target export", path, "use another --state for another path")]

    def begin(self, recorded: Recorded) -> dict[str, str]:
        """The export's id and start, made once (a path that holds files is refused)."""
        prefix = _prefix(self.target)
        started, export_id = recorded("export started"), recorded("export id")
        facts: dict[str, str] = {}
        if started is None or export_id is None:
            if self.store.holds_any(f"{prefix}/" if prefix else ""):
                raise UserError(
                    f"target.path {self.store.url(prefix)} already holds files; give a new path "
                    "(an export is never written over another)"
                )
            now = datetime.now(UTC)
            started = now.isoformat()
            export_id = f"{int(now.timestamp() * 1000):014d}-{uuid.uuid4().hex[:8]}"
            facts = {"export started": started, "export id": export_id}
        absolute = self.target.bucket is not None
        moment = datetime.fromisoformat(started)
        self.export = Export(self.store, prefix, absolute, export_id, moment)
        return facts

    def prepare(self, described: Described, checked: Any, stop: threading.Event) -> None:
        """Nothing to create: a data file's folder is made as it is written."""

    def address(self, part: Part) -> Part:
        """A segment is recorded as its data file, whole: the file is uploaded at its end."""
        assert self.export is not None  # begun
        export_id = self.export.export_id
        return replace(part, group=export_id, key=data_name(part.number), resumable=False)

    @contextmanager
    def writer(
        self, job: CopyJob, share: float, connections: int, policy: RetryPolicy
    ) -> Iterator[FileWriter]:
        yield FileWriter(self.store, _prefix(self.target))

    def changes_writer(self, job: CopyJob, connections: int, policy: RetryPolicy) -> BatchWriter:
        raise AssertionError("an export takes no stream changes: the driver asks takes_changes")

    def finish(self, described: Described, files: Mapping[str, tuple[int, Any]]) -> None:
        assert self.export is not None  # begun
        summary = write_manifests(self.export, files, described.description, self.config)
        log.info("Done: the export's summary is %s", self.store.url(summary))


@dataclass
class FileWriter:
    store: Store
    prefix: str

    @contextmanager
    def part(self, part: Part) -> Iterator[DataFileSink]:
        with SpooledTemporaryFile(SPOOL_BYTES) as spool:
            yield DataFileSink(self, part, spool)


class DataFileSink:
    """One segment's data file: lines gzipped into a spool, uploaded once whole."""

    def __init__(self, writer: FileWriter, part: Part, spool: Any) -> None:
        self.writer, self.part, self.spool = writer, part, spool
        self.out = gzip.GzipFile(fileobj=spool, mode="wb", mtime=0)
        self.items = self.size = 0

    def write(self, requests: list[Request]) -> int:
        # Bytes as written, uncompressed: what loading the export counts too.
        written = sum(self.out.write(item_line(r["PutRequest"]["Item"])) for r in requests)
        self.items, self.size = self.items + len(requests), self.size + written
        return written

    def close(self) -> dict[str, Any]:
        self.out.close()
        self.spool.seek(0)
        digest = hashlib.md5(usedforsecurity=False)
        while chunk := self.spool.read(1 << 20):
            digest.update(chunk)
        self.spool.seek(0)
        name = data_name(self.part.number)
        key = f"{self.writer.prefix}/{name}" if self.writer.prefix else name
        etag = self.writer.store.put(key, self.spool)
        md5 = base64.b64encode(digest.digest()).decode()
        return {"md5": md5, "etag": etag, "bytes": self.size}


def _store(config: MigrationConfig, target: ExportTarget) -> Store:
    if target.bucket is None:
        return LocalStore(Path(target.prefix))
    return s3_store("target", config.target, target.s3, target.bucket)


def _prefix(target: ExportTarget) -> str:
    """Keys of the export start with it ("" for a local folder)."""
    return target.prefix if target.bucket else ""


def data_name(segment: int) -> str:
    return f"data/{segment:05d}.json.gz"
