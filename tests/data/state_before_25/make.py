"""Re-make this folder's state files with the code checked out (tag issue25-base made them).

    cd REPO && PYTHONPATH=$PWD .venv/bin/python tests/data/state_before_25/make.py

Each case runs `toolkit migrate` through the real CLI, against two DynamoDB Local
servers and moto's S3 of its own (free ports on 127.0.0.1), and stops it part-way the
same way every time: a proxy lets the first N requests of one operation through and
holds the next one; the run then gets SIGTERM (a graceful stop, as Ctrl-C) and the
held request an error, so the run stops with exactly N pages or data files recorded.
The replay case waits instead until the changes made after its snapshot are applied.
Beside each state file: what a resume needs (the export's files it reads, the data
files it had written). MADE_BY says which commit made them.
"""

from __future__ import annotations

import contextlib
import datetime
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.conftest import Endpoints
from tests.fakes.fault_proxy import FaultProxy, Page
from tests.fakes.fixed_arn_streams import FixedArnStreams
from tests.fakes.s3_server import ExportWriter, s3_client, s3_server
from tests.helpers import CACHE_DIR, REPO, free_port
from tests.scenario import progress
from tests.state_before_25 import (
    EXPORT_LOAD,
    FIXED_ARN,
    FIXTURES,
    FULL_ID,
    INCREMENTAL_ID,
    PAGE_ITEMS,
    REPLAY,
    SNAPSHOT,
    SOURCE_BUCKET,
    SOURCE_PREFIX,
    STATE,
    STREAM_PARTITIONS,
    TARGET_BUCKET,
    TO_FOLDER,
    TO_S3,
    apply,
    changes_before_stop,
    download,
    export_source_config,
    export_target_config,
    files_recorded,
    full_files,
    incremental_files,
    names,
    recorded,
    segment_pages,
    segments_recorded,
    snapshot_config,
    write_changes,
)
from tests.tables import create_table, load, low_client, scan_all
from toolkit.local import servers

ERROR = Page(
    500,
    b'{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "stop"}',
    "application/x-amz-json-1.0",
)
WAIT = 180.0
EXPORT_TIME = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)


class Gate:
    """A proxy before ``upstream`` that passes ``passing`` requests of ``operation``, holds
    the next, and answers it (and any after it) with an error once the run is stopped."""

    def __init__(self, upstream: str, operation: str, passing: int) -> None:
        self.operation, self.passing, self.seen = operation, passing, 0
        self.held, self.released, self.lock = threading.Event(), threading.Event(), threading.Lock()
        self.proxy = FaultProxy(upstream, observe=self._observe)

    def __enter__(self) -> Gate:
        self.proxy.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.proxy.close()

    def _observe(self, target: str, body: bytes) -> None:
        if target.rsplit(".", 1)[-1] != self.operation:
            return
        with self.lock:
            self.seen += 1
            beyond = self.seen > self.passing
        if beyond:
            self.held.set()
            self.released.wait(WAIT)

    def stop_run(self, *args: str, cwd: Path) -> None:
        process = start(*args, cwd=cwd)
        try:
            if not self.held.wait(WAIT):
                raise RuntimeError(f"no {self.operation} past the first {self.passing}")
            process.send_signal(signal.SIGTERM)
            self.proxy.answer_page([self.operation], ERROR)
            self.released.set()
            finish(process)
        finally:
            stop_for_good(process)


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "toolkit", *args]
    return subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate(timeout=WAIT)
    if process.returncode != 0:
        raise RuntimeError(f"the stopped run exited {process.returncode}: {out}\n{err}")


def stop_for_good(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def wait_for(what: str, ready: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"the run ended before the {what}: {process.communicate()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {WAIT} s")
        time.sleep(0.05)


def keep(state: Path, folder: Path) -> None:
    """The state file into the fixture: one file, its WAL merged by the run's close."""
    if Path(f"{state}-wal").exists():
        raise RuntimeError(f"{state} still has a -wal: the run did not close it")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state, folder / STATE)


def make_snapshot(ends: Endpoints, work: Path) -> None:
    """Segments 0 and 1 done, segment 2 two pages in, segment 3 not started."""
    case, client = SNAPSHOT, low_client(ends.source)
    create_table(client, case.table)
    load(ends.source, case.table, case.items(), ["id"])
    pages = [segment_pages(client, case.table, s, case.segments, PAGE_ITEMS) for s in (0, 1)]
    state = work / STATE
    with Gate(ends.source, "Scan", len(pages[0]) + len(pages[1]) + 2) as gate:
        config = snapshot_config(work / "config.yaml", gate.proxy.url, ends.target)
        pages_flag = ("--scan-page-items", str(PAGE_ITEMS))
        gate.stop_run(
            "migrate", "--config", str(config), "--state", str(state), *pages_flag, cwd=work
        )
    shape = [(s, pages, done) for s, _, _, pages, done in segments_recorded(state)]
    expected = [(0, len(pages[0]), True), (1, len(pages[1]), True), (2, 2, False), (3, 0, False)]
    if shape != expected:
        raise RuntimeError(f"segments {shape}, not {expected}")
    keep(state, case.fixture)


def make_export_source(ends: Endpoints, s3: str, work: Path) -> None:
    """The full export's first two data files loaded, its third and the incremental ones not."""
    client = s3_client(s3)
    client.create_bucket(Bucket=SOURCE_BUCKET)
    full = ExportWriter(client, SOURCE_BUCKET, SOURCE_PREFIX, FULL_ID)
    for n, lines in enumerate(full_files()):
        full.data_file(lines, f"full-{n}")
    full.finish(exportTime=EXPORT_TIME)
    later = ExportWriter(client, SOURCE_BUCKET, SOURCE_PREFIX, INCREMENTAL_ID)
    for n, lines in enumerate(incremental_files()):
        later.data_file(lines, f"incremental-{n}")
    window = {
        "exportFromTime": EXPORT_TIME,
        "exportToTime": EXPORT_TIME + datetime.timedelta(hours=1),
    }
    later.finish(exportType="INCREMENTAL_EXPORT", **window)
    state = work / STATE
    with Gate(ends.target, "BatchWriteItem", 2) as gate:  # one a data file of 20 items
        config = export_source_config(work / "config.yaml", s3, gate.proxy.url)
        gate.stop_run("migrate", "--config", str(config), "--state", str(state), cwd=work)
    done = sorted(files_recorded(state))
    if done != sorted(f["dataFileS3Key"] for f in full.files[:2]):
        raise RuntimeError(f"data files done: {done}")
    keep(state, FIXTURES / "export_source")
    download(client, SOURCE_BUCKET, FIXTURES / "export_source" / "bucket")
    held = sorted(scan_all(ends.target, EXPORT_LOAD))
    if len(held) != 40:
        raise RuntimeError(f"the target holds {len(held)} items, not the 40 of two files")


def make_export_target(ends: Endpoints, s3: str | None, work: Path) -> None:
    """Segments 0 and 1 written as data files and recorded, 2 and 3 not."""
    case, client = (TO_FOLDER, None) if s3 is None else (TO_S3, s3_client(s3))
    source = low_client(ends.source)
    create_table(source, case.table)
    load(ends.source, case.table, case.items(), ["id"])
    if any(len(segment_pages(source, case.table, s, case.segments)) != 1 for s in range(4)):
        raise RuntimeError("a segment takes more than one Scan page")  # one Scan a segment
    if client is not None:
        client.create_bucket(Bucket=TARGET_BUCKET)
    state = work / STATE
    with Gate(ends.source, "Scan", 2) as gate:
        config = export_target_config(work / "config.yaml", gate.proxy.url, s3)
        gate.stop_run("migrate", "--config", str(config), "--state", str(state), cwd=work)
    done = sorted(files_recorded(state))
    if done != ["data/00000.json.gz", "data/00001.json.gz"]:
        raise RuntimeError(f"data files done: {done}")
    keep(state, case.fixture)
    if client is None:
        shutil.copytree(work / "export", case.fixture / "export")
    else:
        download(client, TARGET_BUCKET, case.fixture / "bucket")


def make_replay(ends: Endpoints, work: Path) -> None:
    """The snapshot copied, then the changes made after it applied, no more."""
    case, client = REPLAY, low_client(ends.source)
    create_table(client, case.table)
    load(ends.source, case.table, case.items(), ["id"])
    state, changes = work / STATE, changes_before_stop()
    with FixedArnStreams(ends.source, case.table, FIXED_ARN, STREAM_PARTITIONS) as streams:
        config = snapshot_config(work / "config.yaml", streams.url, ends.target, case)
        process = start("migrate", "--config", str(config), "--state", str(state), cwd=work)
        try:
            wait_for("snapshot", lambda: progress(state).snapshot_done, process)
            write_changes(ends.source, case.table, changes)
            wait_for(
                "replay of the changes", lambda: progress(state).records == len(changes), process
            )
            process.send_signal(signal.SIGTERM)
            finish(process)
        finally:
            stop_for_good(process)
    stream = recorded(state, "SELECT value FROM run WHERE name = 'stream'")
    if stream != [(FIXED_ARN,)] or len(recorded(state, "SELECT * FROM shards")) != 4:
        raise RuntimeError(f"the state follows {stream}")
    expected = apply({i["id"]["S"]: i for i in case.items()}, changes)
    if sorted(names(list(scan_all(ends.target, case.table).values()))) != sorted(expected):
        raise RuntimeError("the target does not hold the snapshot and the changes")
    keep(state, case.fixture)


@contextlib.contextmanager
def local_servers(home: Path) -> Iterator[Endpoints]:
    settings = servers.LocalSettings(home, CACHE_DIR, free_port(), free_port(), heap="1g")
    started, _ = servers.up(settings)
    try:
        by_role = {s.role: s.endpoint for s in started}
        yield Endpoints(by_role["source"], by_role["target"])
    finally:
        servers.down(settings)


def made_by() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()

    changed = git("status", "--porcelain", "--", "toolkit") or "none"
    return (
        f"made by tests/data/state_before_25/make.py on {datetime.date.today().isoformat()}\n"
        f"checked out: {git('rev-parse', 'HEAD')} ({git('describe', '--tags', '--always')})\n"
        f"toolkit/ last changed in: {git('log', '-1', '--format=%H', '--', 'toolkit')}\n"
        f"uncommitted changes under toolkit/: {changed}\n"
    )


def main() -> None:
    for old in (
        SNAPSHOT.fixture,
        FIXTURES / "export_source",
        TO_FOLDER.fixture,
        TO_S3.fixture,
        REPLAY.fixture,
    ):
        shutil.rmtree(old, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="before25-") as temporary:
        home = Path(temporary)
        with local_servers(home) as ends, s3_server(home) as s3:
            cases: dict[str, Callable[[Path], None]] = {
                "snapshot": lambda work: make_snapshot(ends, work),
                "export_source": lambda work: make_export_source(ends, s3, work),
                "export_folder": lambda work: make_export_target(ends, None, work),
                "export_s3": lambda work: make_export_target(ends, s3, work),
                "replay": lambda work: make_replay(ends, work),
            }
            for name, make in cases.items():
                (home / name).mkdir()
                make(home / name)
                print(f"made {name}")
    (FIXTURES / "MADE_BY").write_text(made_by())


if __name__ == "__main__":
    main()
