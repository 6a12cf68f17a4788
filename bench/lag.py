"""Replication lag under load: a source write's acknowledgment to its visibility on the target.

Run by hand (never part of the tests):

    .venv/bin/python bench/lag.py --rates 25 2000 --markers 300

For each mutator rate it starts its own pair of DynamoDB Local servers on free
ports and, on a fresh source table (the reference post's shape: id S, version N):

1. `toolkit migrate` with streamChanges runs in the background: it enables the
   stream, copies the (empty) snapshot, and replays the stream from then on;
2. `toolkit mutate --rate R-R` runs in the background (32 writers, items of 40 to
   1,000 bytes: with its defaults, 8 writers and up to 32 KB, it reached only about
   100 ops/s on the 2-core machine), and is given a few seconds to settle;
3. bench/lag_probe.py writes markers to the source, one every --interval seconds,
   and polls the target until each is visible: p50, p99 and max of the lags;
4. the mutator is stopped (its summary gives the rate it achieved), then the
   migration (SIGTERM: it checkpoints and exits).
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import (
    Servers,
    create_table,
    local_servers,
    low_client,
    print_table,
    section,
    toolkit_command,
    write_config,
)
from lag_probe import measure_lag, summarize

GOALS = {25: 1.0, 2000: 2.0}  # mutator ops/s -> p99 seconds at most (issue 8)


@dataclass(frozen=True)
class Lag:
    asked: int  # ops/s asked of the mutator
    achieved: float  # ops/s it reached
    lags: list[float]


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def wait_for_line(log: Path, pattern: str, child: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not re.search(pattern, log.read_text(errors="replace")):
        if child.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"no line {pattern!r} in {log}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def stop(child: subprocess.Popen[bytes], signum: int) -> None:
    child.send_signal(signum)
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def measure(servers: Servers, rate: int, options: argparse.Namespace) -> Lag:
    table = f"lag_{rate}"
    create_table(low_client(servers.source), table, (("id", "S"), ("version", "N")))
    config = write_config(
        servers.work / f"{table}.yaml",
        section(servers.source, table),
        section(servers.target, table, streamChanges=True),
    )
    migrate_log = servers.work / f"{table}-migrate.log"
    migrate = start(toolkit_command("migrate", "--config", str(config)), migrate_log)
    mutate_log = servers.work / f"{table}-mutate.log"
    mutate: subprocess.Popen[bytes] | None = None
    try:
        wait_for_line(migrate_log, "Starting to transfer changes", migrate, 120)
        mutate = start(
            toolkit_command(
                *("mutate", "--config", str(config)),  # its source section: table, credentials
                *("--keys", str(options.keys), "--rate", f"{rate}-{rate}", "--window", "5"),
                *("--workers", str(options.workers)),
                *("--max-item-bytes", str(options.max_item_bytes)),
            ),
            mutate_log,
        )
        time.sleep(options.settle)
        lags = measure_lag(
            servers.source,
            servers.target,
            table,
            markers=options.markers,
            interval=options.interval,
            timeout=120,
        )
    finally:
        if mutate is not None:
            stop(mutate, signal.SIGINT)
        stop(migrate, signal.SIGTERM)
    summary = re.search(r"Mutate \w+: .*?, ([\d.]+) ops/s;", mutate_log.read_text(errors="replace"))
    if summary is None:
        raise SystemExit(f"no mutate summary in:\n{mutate_log.read_text()[-3000:]}")
    return Lag(rate, float(summary.group(1)), lags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[25, 2000])
    parser.add_argument("--markers", type=int, default=300, help="markers per rate")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between markers")
    parser.add_argument("--settle", type=float, default=10.0, help="mutator's seconds before")
    parser.add_argument("--keys", type=int, default=10_000, help="the mutator's key space")
    parser.add_argument("--workers", type=int, default=32, help="the mutator's writers")
    parser.add_argument("--max-item-bytes", type=int, default=1000, help="the mutator's")
    options = parser.parse_args()
    results = []
    for rate in options.rates:
        # Fresh servers for each rate: DynamoDB Local's writes slow down with every
        # stream record it already holds.
        with local_servers() as servers:
            results.append(measure(servers, rate, options))
        print(f"{rate} ops/s: {summarize(results[-1].lags)}", file=sys.stderr)
    rows = []
    for result in results:
        summary = summarize(result.lags)
        goal = GOALS.get(result.asked)
        verdict = ""
        if goal is not None:
            verdict = f"≤ {goal:g} s: {'met' if summary['p99'] <= goal else 'MISSED'}"
        rows.append(
            [
                f"{result.asked:,}",
                f"{result.achieved:,.0f}",
                len(result.lags),
                f"{summary['p50']:.3f}",
                f"{summary['p99']:.3f}",
                f"{summary['max']:.3f}",
                verdict,
            ]
        )
    header = ["mutator asked ops/s", "achieved", "markers", "p50 s", "p99 s", "max s", "goal p99"]
    title = (
        f"Lag: source acknowledgment → visible on the target (toolkit migrate replaying), "
        f"a marker every {options.interval:g} s"
    )
    print_table(title, header, rows)


if __name__ == "__main__":
    main()
