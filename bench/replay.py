"""Stream replay speed: draining a backlog with `toolkit migrate`, beside plain writes.

Run by hand (never part of the tests):

    .venv/bin/python bench/replay.py --records 100000 --rounds 3

Each round starts its own pair of DynamoDB Local servers on free ports (a server
with stream records slows down as they accumulate), then:

1. a fresh source table; `toolkit migrate --stop-when-drained` with streamChanges
   enables its stream (NEW_IMAGE), copies the empty snapshot and stops, drained;
2. N items of about 200 bytes are written to the source while no migration runs:
   a backlog of N stream records;
3. `toolkit migrate --stop-when-drained` again, with the same state: it resumes the
   replay and drains the backlog. Its rate is N over the replay's own time (its
   summary line), which includes telling that the stream is drained (three empty
   polls, about 0.8 s);
4. the floor: the same N items written with plain BatchWriteItem from 8 threads
   (bench/floor.py's writer) into a fresh target table.

Both targets are checked to hold all N items.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from common import (
    Measured,
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


@dataclass(frozen=True)
class Drain:
    records: int
    seconds: float
    run: Measured
    servers_cpu: float  # CPU seconds both DynamoDB Locals used during the run

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def cpu_per_record(self) -> float:
        """All CPU per record, client and servers: what 2 cores must share."""
        return (self.run.cpu + self.servers_cpu) / self.records * 1e6


def count(endpoint: str, table: str) -> int:
    pages = low_client(endpoint).get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(page["Count"] for page in pages)


def toolkit_drain(servers: Servers, table: str, records: int) -> Drain:
    config = write_config(
        servers.work / f"{table}.yaml",
        section(servers.source, table),
        section(servers.target, table, streamChanges=True),
    )
    migrate = toolkit_command("migrate", "--config", str(config), "--stop-when-drained")
    create_table(low_client(servers.source), table)
    run_measured(migrate)  # enables the stream, copies nothing, drains nothing
    load_table(servers.source, table, records, create=False)  # the backlog
    before = servers.cpu_seconds()
    run = run_measured(migrate)
    match = re.search(r"Stream replay drained: (\d+) records applied in ([\d.]+) s", run.stdout)
    if match is None:
        raise SystemExit(f"no replay summary in: {run.stdout[-2000:]}{run.stderr[-2000:]}")
    return Drain(int(match.group(1)), float(match.group(2)), run, servers.cpu_seconds() - before)


def floor_write(servers: Servers, table: str, records: int) -> Drain:
    create_table(low_client(servers.target), table)
    floor = str(Path(__file__).with_name("floor.py"))
    command = [sys.executable, floor, "write", servers.target, table, "--count", str(records)]
    before = servers.cpu_seconds()
    run = run_measured(command)
    result = json.loads(run.stdout)
    return Drain(result["items"], result["seconds"], run, servers.cpu_seconds() - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    options = parser.parse_args()
    results: dict[str, list[Drain]] = {"toolkit": [], "floor": []}
    for round_ in range(options.rounds):
        # Fresh servers each round: DynamoDB Local's writes slow down with every stream
        # record it already holds, in any table (getStreamDescription on each write).
        with local_servers() as servers:
            for name in ("toolkit", "floor") if round_ % 2 == 0 else ("floor", "toolkit"):
                table = f"replay_{name}_{round_}"
                run = toolkit_drain if name == "toolkit" else floor_write
                drain = run(servers, table, options.records)
                written = count(servers.target, table)
                if drain.records != options.records or written != options.records:
                    raise SystemExit(f"{name}: {drain.records} said, {written} in the target")
                results[name].append(drain)
                print(f"round {round_ + 1} {name}: {drain.rate:,.0f} records/s", file=sys.stderr)
    report(options, results)


def report(options: argparse.Namespace, results: dict[str, list[Drain]]) -> None:
    median = {name: sorted(d, key=lambda d: d.rate)[len(d) // 2] for name, d in results.items()}
    tool = median["toolkit"]
    labels = {
        "toolkit": "toolkit migrate --stop-when-drained (backlog)",
        "floor": "floor: BatchWriteItem of the same items, 8 threads",
    }
    rows = []
    for name, drain in median.items():
        rates = [d.rate for d in results[name]]
        rows.append(
            [
                labels[name],
                drain.rate,
                f"{min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else "",
                drain.run.cpu / drain.records * 1e6,
                drain.servers_cpu / drain.records * 1e6,
                (drain.run.cpu + drain.servers_cpu) / drain.run.seconds,
                f"{tool.rate / drain.rate:.2f}x",
            ]
        )
    header = [
        "drain",
        "records/s",
        "range",
        "client CPU µs/record",
        "servers' CPU µs/record",
        "cores busy",
        "toolkit ÷ this",
    ]
    rounds = f"median of {options.rounds} rounds" if options.rounds > 1 else "one round"
    title = f"Replay: a backlog of {options.records:,} stream records of ~200 bytes, {rounds}"
    print_table(title, header, rows)
    floor = median["floor"]
    ratio = tool.rate / floor.rate
    print(f"goal toolkit ≥ 0.8x floor: {ratio:.2f}x, {'met' if ratio >= 0.8 else 'MISSED'}")
    # The drain needs the source's GetRecords besides the target's writes: on 2 shared
    # cores, all CPU per record bounds the rate, however well the work overlaps.
    bound = 2e6 / tool.cpu_per_record
    print(
        f"2-core bound: all CPU (client + servers) per record: toolkit "
        f"{tool.cpu_per_record:.0f} µs, floor {floor.cpu_per_record:.0f} µs; with both "
        f"cores busy the toolkit could reach {bound:,.0f} records/s, "
        f"{bound / floor.rate:.2f}x the floor"
    )


if __name__ == "__main__":
    main()
