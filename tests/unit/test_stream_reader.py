"""Several shards' GetRecords (or GetShardIterator) in flight together: each shard's
outcome is its own.

The data plane here is a stand-in that answers from a script, so that one call can
hold a page, throttling, an expired iterator and a dropped connection at once; the
real HTTP path of ``call_all`` is tested in tests/servers/test_http1.py, and the replay
through the stream server runs the whole of it end to end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from toolkit.errors import ChangesLost, ServiceBusy, ServiceError, ToolkitError
from toolkit.wire.dataplane import Answer, DataPlane
from toolkit.wire.retry import RetryPolicy
from toolkit.wire.stream_reader import IteratorExpired, ShardThrottled, StreamReader


def page(*sequences: str) -> Answer:
    records = [{"dynamodb": {"SequenceNumber": s}} for s in sequences]
    return Answer({"Records": records, "NextShardIterator": "next"}, 10)


class ScriptedPlane:
    """First attempts answered by ``together``; each later attempt by ``again``."""

    def __init__(self, together: dict[str, Answer | ToolkitError], again: Answer) -> None:
        self.together, self.again = together, again
        self.sent_again: list[str] = []

    def call_all(
        self, operation: str, requests: Sequence[dict[str, Any]], api: str = ""
    ) -> list[Answer | ToolkitError]:
        return [self.together[_shard(r)] for r in requests]

    def call(self, operation: str, request: dict[str, Any], api: str = "") -> Answer:
        self.sent_again.append(_shard(request))
        return self.again


def _shard(request: dict[str, Any]) -> str:
    return str(request.get("ShardIterator") or request["ShardId"])


def reader(plane: ScriptedPlane) -> StreamReader:
    policy = RetryPolicy(sleep=lambda _: None)
    return StreamReader(cast(DataPlane, plane), "arn:s", policy)


def test_each_shard_read_together_gets_its_own_outcome() -> None:
    plane = ScriptedPlane(
        {
            "a": page("1", "2"),
            "b": ServiceBusy("slow down", code="LimitExceededException"),
            "c": ServiceError("too old", code="ExpiredIteratorException"),
            "d": ServiceBusy("reset", code="ConnectionError"),
        },
        again=page("7"),
    )
    a, b, c, d = reader(plane).records_all(["a", "b", "c", "d"])
    assert a == (
        [{"dynamodb": {"SequenceNumber": "1"}}, {"dynamodb": {"SequenceNumber": "2"}}],
        "next",
    )
    assert isinstance(b, ShardThrottled)  # the follower slows that shard: not retried here
    assert isinstance(c, IteratorExpired)
    assert d == ([{"dynamodb": {"SequenceNumber": "7"}}], "next")  # retried on its own
    assert plane.sent_again == ["d"]


def test_a_trimmed_shard_among_others_is_the_loud_failure_of_that_shard_alone() -> None:
    plane = ScriptedPlane(
        {"a": ServiceError("gone", code="TrimmedDataAccessException"), "b": page("3")},
        again=page(),
    )
    trimmed, fine = reader(plane).records_all(["a", "b"])
    assert isinstance(trimmed, ChangesLost) and "trimmed before replay" in str(trimmed)
    assert fine == ([{"dynamodb": {"SequenceNumber": "3"}}], "next")
    with pytest.raises(ChangesLost):  # one shard's read raises what records_all gives back
        reader(plane).records("a")


def test_iterators_opened_together_each_get_their_own_outcome() -> None:
    opened = Answer({"ShardIterator": "it"}, 10)
    plane = ScriptedPlane(
        {
            "a": opened,
            "b": ServiceBusy("reset", code="ConnectionError"),
            "c": ServiceError("gone", code="TrimmedDataAccessException"),
            "d": ServiceError("no such shard", code="ResourceNotFoundException"),
        },
        again=Answer({"ShardIterator": "again"}, 10),
    )
    a, b, c, d = reader(plane).iterators_all([("a", None), ("b", "5"), ("c", "6"), ("d", None)])
    assert (a, b) == ("it", "again") and plane.sent_again == ["b"]  # retried on its own
    assert isinstance(c, ChangesLost) and "trimmed before replay" in str(c)
    assert isinstance(d, ChangesLost) and "shard d of arn:s is gone" in str(d)
    with pytest.raises(ChangesLost):  # one shard's iterator raises what iterators_all gives
        reader(plane).iterator("c", "6")


class ListingPlane:
    """DescribeStream answered from a script, one answer (or error) per call."""

    def __init__(self, *answers: dict[str, Any] | ToolkitError) -> None:
        self.answers = list(answers)
        self.asked: list[dict[str, Any]] = []

    def call(self, operation: str, request: dict[str, Any], api: str = "") -> Answer:
        assert operation == "DescribeStream"
        self.asked.append(dict(request))
        answer = self.answers.pop(0)
        if isinstance(answer, ToolkitError):
            raise answer
        return Answer({"StreamDescription": answer}, 10)


def listed(*shards: tuple[str, str | None], last: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "Shards": [{"ShardId": s, **({"ParentShardId": p} if p else {})} for s, p in shards]
    }
    return {**page, "LastEvaluatedShardId": last} if last else page


def test_the_listing_follows_its_pages_through_the_data_plane_and_retries_throttling() -> None:
    plane = ListingPlane(
        listed(("a", None), ("b", "a"), last="b"),
        ServiceBusy("too many calls", code="LimitExceededException"),
        listed(("c", "a")),
    )
    shards = StreamReader(cast(DataPlane, plane), "arn:s", RetryPolicy(sleep=lambda _: None))
    assert [(s.shard_id, s.parent_id) for s in shards.shards()] == [
        ("a", None),
        ("b", "a"),
        ("c", "a"),
    ]
    assert [r.get("ExclusiveStartShardId") for r in plane.asked] == [None, "b", "b"]
    assert all(r["Limit"] == 100 and r["StreamArn"] == "arn:s" for r in plane.asked)


def test_children_through_the_data_plane_or_none_where_the_filter_is_refused() -> None:
    policy = RetryPolicy(sleep=lambda _: None)
    plane = ListingPlane(
        listed(("b", "a"), ("c", "a")),
        ServiceError("no such filter", code="ValidationException"),
        listed(("x", None)),  # a server that ignores the filter: shards that are not children
    )
    streams = StreamReader(cast(DataPlane, plane), "arn:s", policy)
    children = streams.children("a")
    assert children is not None and [s.shard_id for s in children] == ["b", "c"]
    assert plane.asked[0]["ShardFilter"] == {"Type": "CHILD_SHARDS", "ShardId": "a"}
    assert streams.children("a") is None
    assert streams.children("a") is None
