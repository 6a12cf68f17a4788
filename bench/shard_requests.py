"""The CPU of the requests a shard's drain needs, alone: no replay around them.
Run by hand (never part of the tests):
    .venv/bin/python bench/shard_requests.py --shards 4096 --records 100000
A backlog of N records is spread over S shards (tests/fakes/stream_server.py in front of
a DynamoDB Local, in this process); then a child process, through the toolkit's
data plane, opens an iterator on every shard, reads its page of records, and reads
once more (the empty page that says it is read to its end), each kind for all
shards in turn. Its CPU (getrusage) per request is printed for requests sent one
at a time and 8 in flight together (`DataPlane.call_all`), as the replay sends
them. The page's figure includes parsing its records, which every record costs
whatever the shard count; the two others are a shard's own cost. Set beside the
replay's CPU per shard (bench/shards.py), this says how much of it is the
requests and how much is the replay's own work.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

from common import create_table, load_table, local_servers, low_client, print_table
from shards import QUIET, wait_pumped

from tests.fakes.stream_server import StreamServer
from tests.tables import CREDENTIALS
from toolkit.wire.dataplane import STREAMS_API, Answer, DataPlane

IN_FLIGHT = (1, 8)


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(url: str, arn: str, group: int) -> None:
    plane = DataPlane(url, "us-east-1", CREDENTIALS, connections=16)
    shards = list_shards(plane, arn)

    def each(operation: str, requests: list[dict[str, Any]]) -> tuple[float, list[Answer]]:
        before, answers = cpu(), []
        for at in range(0, len(requests), group):
            for outcome in plane.call_all(operation, requests[at : at + group], STREAMS_API):
                if not isinstance(outcome, Answer):
                    raise SystemExit(f"{operation} failed: {outcome}")
                answers.append(outcome)
        return (cpu() - before) / len(requests) * 1e6, answers

    opens = [{"StreamArn": arn, "ShardId": s, "ShardIteratorType": "TRIM_HORIZON"} for s in shards]
    opened, iterators = each("GetShardIterator", opens)
    read, pages = each(
        "GetRecords", [{"ShardIterator": a.body["ShardIterator"]} for a in iterators]
    )
    ends = [{"ShardIterator": p.body["NextShardIterator"]} for p in pages]
    empty, _ = each("GetRecords", ends)
    records = sum(len(p.body.get("Records", [])) for p in pages)
    print(json.dumps({"shards": len(shards), "records": records, "us": [opened, read, empty]}))


def list_shards(plane: DataPlane, arn: str) -> list[str]:
    shards: list[str] = []
    request: dict[str, Any] = {"StreamArn": arn}
    while True:
        outcome = plane.call_all("DescribeStream", [request], STREAMS_API)[0]
        if not isinstance(outcome, Answer):
            time.sleep(0.1)  # 10 calls a second at most: LimitExceededException, ask again
            continue
        description = outcome.body["StreamDescription"]
        shards += [s["ShardId"] for s in description["Shards"]]
        if "LastEvaluatedShardId" not in description:
            return shards
        request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=4096)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        url, arn, group = options.child
        child(url, arn, int(group))
        return
    with (
        local_servers() as servers,
        StreamServer(servers.source, partitions=options.shards, **QUIET) as stream,
    ):
        create_table(low_client(servers.source), "requests")
        enabled = low_client(stream.url).update_table(
            TableName="requests",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        arn = enabled["TableDescription"]["LatestStreamArn"]
        first = {"StreamArn": arn, "Limit": 1}  # the stream server cuts the stream now
        DataPlane(stream.url, "us-east-1", CREDENTIALS).call("DescribeStream", first, STREAMS_API)
        load_table(servers.source, "requests", options.records, create=False)
        wait_pumped(stream, options.records)
        rows = []
        for group in IN_FLIGHT:
            command = [sys.executable, __file__, "--child", stream.url, arn, str(group)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-2000:])
            result = json.loads(done.stdout.splitlines()[-1])
            rows.append([group, *(f"{us:.0f}" for us in result["us"])])
    per_shard = options.records / options.shards
    print_table(
        f"CPU µs per request, {options.shards} shards, {per_shard:.1f} records a shard",
        ["in flight", "GetShardIterator", "GetRecords, its page", "GetRecords, empty"],
        rows,
    )


if __name__ == "__main__":
    main()
