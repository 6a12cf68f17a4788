"""Stream replay at many shards, through tests/fakes/stream_server.py (issue 14).

Run by hand (never part of the tests):

    .venv/bin/python bench/shards.py --shards 16 256 1024 4096 --records 100000

and a baseline (e.g. main's toolkit) through the same server:

    mkdir -p /tmp/base && git archive main toolkit | tar -x -C /tmp/base
    .venv/bin/python bench/shards.py --shards 16 1024 --skip-live --toolkit-from /tmp/base

(the children then run from /tmp/base, and the bench prints which toolkit they import)

Each measurement starts its own pair of DynamoDB Local servers on free ports and a
stream server in front of the source (in this process: its CPU is not the
toolkit's), with no rollover, no throttling and no early expiry:

1. drain: for each shard count, `toolkit migrate --stop-when-drained` enables the
   stream on an empty table; N items of ~200 bytes are written to the source (a
   backlog spread over every shard by key hash); once the stream server holds them
   all, `toolkit migrate --stop-when-drained` again drains them. Its rate is N over
   the replay's own time (its summary line); its CPU (user + sys, from wait4) per
   record is printed with the ratio to the smallest shard count's;
2. idle: `toolkit migrate` on a quiet stream of --idle-shards shards; after
   --settle seconds, its CPU over --idle-seconds, as a share of one core;
3. lag: the same with `toolkit mutate` at --rate ops/s; bench/lag_probe.py's
   markers give the lag from a source write's acknowledgment to the target;
4. drained while rolling: --rolling-shards shards that all roll over every
   --rollover seconds; a backlog of --rolling-records records; the seconds from the
   last record applied (as the state file shows it) to the exit of
   `toolkit migrate --stop-when-drained`.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from common import (
    Servers,
    create_table,
    load_table,
    local_servers,
    low_client,
    print_table,
    run_measured,
    section,
    toolkit_command,
    write_config,
)
from lag import start, stop, wait_for_line
from lag_probe import measure_lag, summarize

from tests.fakes.stream_server import StreamServer

QUIET = {"rollover_seconds": 10**6, "throttle_chance": 0.0, "expire_chance": 0.0}


@dataclass(frozen=True)
class Drain:
    shards: int
    records: int
    seconds: float
    cpu: float  # the toolkit's CPU seconds

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_per_record(self) -> float:
        return self.cpu / self.records * 1e6


def configure(servers: Servers, stream: StreamServer, table: str) -> Path:
    return write_config(
        servers.work / f"{table}.yaml",
        section(stream.url, table),
        section(servers.target, table, streamChanges=True),
    )


def wait_pumped(stream: StreamServer, records: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while stream.counts["records"] < records:
        if time.monotonic() > deadline:
            raise SystemExit(f"the stream server holds {stream.counts['records']} of {records}")
        time.sleep(0.1)


def drain(shards: int, records: int) -> Drain:
    with local_servers() as servers, StreamServer(servers.source, partitions=shards, **QUIET) as s:
        table = f"drain_{shards}"
        config = configure(servers, s, table)
        migrate = toolkit_command("migrate", "--config", str(config), "--stop-when-drained")
        create_table(low_client(servers.source), table)
        run_measured(migrate)  # enables the stream, copies nothing, drains nothing
        load_table(servers.source, table, records, create=False)
        wait_pumped(s, records)
        run = run_measured(migrate)
    match = re.search(r"Stream replay drained: (\d+) records applied in ([\d.]+) s", run.stdout)
    if match is None:
        raise SystemExit(f"no replay summary in: {run.stdout[-2000:]}{run.stderr[-2000:]}")
    return Drain(shards, int(match.group(1)), float(match.group(2)), run.cpu)


def applied(state: Path) -> int:
    try:
        with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            return int(db.execute("SELECT COALESCE(SUM(records), 0) FROM shards").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def rolling_tail(shards: int, records: int, rollover: float) -> tuple[float, float]:
    """Seconds from the last record applied to the exit of --stop-when-drained, while
    every shard rolls over each ``rollover`` seconds; and the whole run's seconds."""
    rolling = {**QUIET, "rollover_seconds": rollover, "split_chance": 0.2}
    with (
        local_servers() as servers,
        StreamServer(servers.source, partitions=shards, **rolling) as s,
    ):
        table = f"rolling_{shards}"
        config, state = configure(servers, s, table), servers.work / "rolling.sqlite"
        migrate = toolkit_command(
            "migrate", "--config", str(config), "--state", str(state), "--stop-when-drained"
        )
        create_table(low_client(servers.source), table)
        run_measured(migrate)
        load_table(servers.source, table, records, create=False)
        wait_pumped(s, records)
        started, done = time.monotonic(), [0.0]

        def watch() -> None:
            while applied(state) < records and time.monotonic() - started < 600:
                time.sleep(0.05)
            done[0] = time.monotonic() - started

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        run = run_measured(migrate)
        watcher.join()
    return run.seconds - done[0], run.seconds


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def live(shards: int, rate: int, options: argparse.Namespace) -> tuple[float, list[float]]:
    """The replay's share of a core on a quiet stream, then lags under a steady load."""
    with local_servers() as servers, StreamServer(servers.source, partitions=shards, **QUIET) as s:
        table = f"live_{shards}"
        create_table(low_client(servers.source), table, (("id", "S"), ("version", "N")))
        config = configure(servers, s, table)
        log = servers.work / "migrate.log"
        migrate = start(toolkit_command("migrate", "--config", str(config)), log)
        mutate = None
        try:
            wait_for_line(log, "Starting to transfer changes", migrate, 120)
            time.sleep(options.settle)
            before = cpu_seconds(migrate.pid)
            time.sleep(options.idle_seconds)
            idle = (cpu_seconds(migrate.pid) - before) / options.idle_seconds
            mutate = start(
                toolkit_command(
                    *("mutate", "--config", str(config), "--keys", "10000"),
                    *("--rate", f"{rate}-{rate}", "--window", "5", "--max-item-bytes", "400"),
                ),
                servers.work / "mutate.log",
            )
            time.sleep(options.settle)
            lags = measure_lag(
                s.url, servers.target, table, markers=options.markers, interval=0.2, timeout=120
            )
        finally:
            if mutate is not None:
                stop(mutate, signal.SIGINT)
            stop(migrate, signal.SIGTERM)
    return idle, lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, nargs="+", default=[16, 256, 1024, 4096])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--idle-shards", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=25)
    parser.add_argument("--markers", type=int, default=100)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--rolling-shards", type=int, default=256, help="0: skip")
    parser.add_argument("--rollover", type=float, default=5.0)
    parser.add_argument("--rolling-records", type=int, default=30_000)
    parser.add_argument(
        "--toolkit-from",
        type=Path,
        help="a folder holding another toolkit/ package (e.g. `git archive` of a baseline): "
        "the children run that one",
    )
    options = parser.parse_args()
    if options.toolkit_from is not None:
        # `python -m` puts the working folder first on sys.path: from the repository's
        # root, PYTHONPATH alone would still import this toolkit/, not the baseline's.
        os.environ["PYTHONPATH"] = str(options.toolkit_from.resolve())
        os.chdir(options.toolkit_from)
    where = subprocess.run(
        [sys.executable, "-c", "import toolkit; print(toolkit.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"the children run {where.stdout.strip()}", file=sys.stderr)
    drains = []
    for shards in options.shards:
        drains.append(drain(shards, options.records))
        print(f"{shards} shards: {drains[-1].rate:,.0f} records/s", file=sys.stderr)
    base = drains[0]
    rows = [
        [
            d.shards,
            d.rate,
            f"{d.rate / base.rate:.2f}x",
            d.cpu_per_record,
            f"{d.cpu_per_record / base.cpu_per_record:.2f}x",
        ]
        for d in drains
    ]
    header = ["shards", "records/s", "÷ first", "toolkit CPU µs/record", "÷ first"]
    print_table(f"Drain of {options.records:,} records of ~200 bytes", header, rows)
    last = drains[-1].cpu_per_record / base.cpu_per_record
    print(f"goal CPU/record at {drains[-1].shards} ≤ 1.5x at {base.shards}: {last:.2f}x")
    if options.rolling_shards:
        tail, whole = rolling_tail(
            options.rolling_shards, options.rolling_records, options.rollover
        )
        print(
            f"--stop-when-drained while {options.rolling_shards} shards roll over every "
            f"{options.rollover:g} s: exits {tail:.1f} s after the last record was applied "
            f"(run {whole:.1f} s)"
        )
    if options.skip_live:
        return
    idle, lags = live(options.idle_shards, options.rate, options)
    stats = summarize(lags)
    print(f"idle replay of {options.idle_shards} quiet shards: {idle:.1%} of one core (≤ 10%)")
    print(
        f"lag at {options.rate} ops/s over {options.idle_shards} open shards: "
        f"p50 {stats['p50']:.3f} s, p99 {stats['p99']:.3f} s, max {stats['max']:.3f} s (p99 ≤ 1 s)"
    )


if __name__ == "__main__":
    main()
