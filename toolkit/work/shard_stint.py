"""A stint: several shards followed turn after turn, for a few seconds, in one task.

An engine's task costs far more to start than a turn (a Spark job: tens of ms of
the driver's and the JVM's CPU), and most turns of a quiet stream find nothing. So
a task follows its group of shards for up to ``seconds``, paced as the driver
would (toolkit.work.replay_follower), and returns each shard's turns folded into
one result: the driver records the checkpoint once the task ended, every write up
to it acknowledged. A stint ends early once one of its shards is finished, so that
the driver starts that shard's children without waiting, but never before each of
its shards had a turn: else, while shards roll over, those at the back of a group
would never be read.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from toolkit.logic.poll_backoff import PollPace
from toolkit.work.replay_follower import Follower
from toolkit.work.shard_turn import ShardTurn, Turned, TurnTools, take_turn


@dataclass(frozen=True)
class Stint:
    turns: Sequence[ShardTurn]  # where each shard is
    seconds: float  # follow them this long at most
    pace: PollPace


def folded(before: Turned, after: Turned) -> Turned:
    """Two turns of one shard in a row, as one: counts add up, the rest is the later's."""
    counts = dict(before.counts)
    for kind, count in after.counts.items():
        counts[kind] = counts.get(kind, 0) + count
    return replace(
        after,
        records=before.records + after.records,
        counts=counts,
        oldest=before.oldest if before.records else after.oldest,
        newest=after.newest if after.records else before.newest,
    )


def take_stint(
    tools: TurnTools,
    stint: Stint,
    width: int,
    clock: Callable[[], float] = time.monotonic,
) -> list[Turned]:
    """Each shard's turns folded into one result, with its pacing where they ended."""
    followers = {turn.shard: _follower(turn, stint.pace) for turn in stint.turns}
    results = {turn.shard: Turned(turn.shard, turn.after, turn.iterator) for turn in stint.turns}
    deadline = clock() + stint.seconds
    due = [(0.0, n, turn.shard) for n, turn in enumerate(stint.turns)]
    running: dict[Future[Turned], str] = {}
    unturned = set(followers)  # no shard is left out: each has one turn at least
    finished, ending = False, False
    with ThreadPoolExecutor(max(1, width), thread_name_prefix="turn") as pool:
        while running or (due and not ending):
            now = clock()
            while due and due[0][0] <= now and len(running) < width and not ending:
                shard = heapq.heappop(due)[2]
                unturned.discard(shard)
                running[pool.submit(take_turn, tools, followers[shard].turn())] = shard
            room = due and len(running) < width and not ending
            timeout = max(0.0, due[0][0] - now) if room else None
            ended = wait(running, timeout, FIRST_COMPLETED).done if running else _slept(timeout)
            for future in ended:
                shard = running.pop(future)
                turned = future.result()  # a failed turn fails the task
                results[shard] = folded(results[shard], turned)
                follower = followers[shard]
                follower.took(turned)
                finished = finished or follower.done
                if not follower.done and clock() + follower.delay < deadline:
                    heapq.heappush(due, (clock() + follower.delay, len(results), shard))
            ending = not unturned and (finished or clock() >= deadline)
    return [_paced(results[turn.shard], followers[turn.shard]) for turn in stint.turns]


def _follower(turn: ShardTurn, pace: PollPace) -> Follower:
    follower = Follower(turn.shard, turn.after, pace)
    follower.restore(turn)
    return follower


def _slept(seconds: float | None) -> set[Future[Turned]]:
    time.sleep(seconds or 0.0)
    return set()


def _paced(turned: Turned, follower: Follower) -> Turned:
    return replace(turned, idle_polls=follower.idle_polls, throttles=follower.throttles)
