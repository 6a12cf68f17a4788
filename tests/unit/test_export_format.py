"""Pure logic of DynamoDB's export format: properties over any items, and the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import items, texts
from toolkit.errors import UserError
from toolkit.logic.export_format import (
    DataFile,
    ExportFormatError,
    check_checksum,
    files_manifest,
    item_line,
    md5_base64,
    order_exports,
    parse_files,
    parse_line,
    parse_summary,
    requests_of,
    resolve_key,
)
from toolkit.logic.ion_items import ion_line, parse_ion_line
from toolkit.logic.items import canonical

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def summary(key: str = "p/AWSDynamoDB/1/manifest-summary.json", **fields: Any) -> bytes:
    doc = {
        "exportArn": f"arn:{key}",
        "exportTime": "2026-01-01T00:00:00.000Z",
        "s3Bucket": "b",
        "s3Prefix": "p",
        "manifestFilesS3Key": "p/AWSDynamoDB/1/manifest-files.json",
        **fields,
    }
    return orjson.dumps(doc)


@given(items())
def test_a_json_line_gives_back_the_item_byte_for_byte(item: dict[str, Any]) -> None:
    doc = parse_line(item_line(item), "DYNAMODB_JSON", "here")
    assert requests_of([doc], False, [], "here") == [{"PutRequest": {"Item": item}}]


@given(items())
def test_an_ion_line_gives_back_the_same_item_by_value(item: dict[str, Any]) -> None:
    parsed = parse_ion_line(ion_line({"Item": item}))
    assert canonical(parsed["Item"]) == canonical(item)


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 100), st.booleans()), max_size=30))
def test_an_incremental_file_keeps_the_last_change_of_each_key(
    changes: list[tuple[int, int, bool]],
) -> None:
    docs = [
        {
            "Metadata": {"WriteTimestampMicros": {"N": str(stamp)}},
            "Keys": {"id": {"N": str(k)}},
            **({"NewImage": {"id": {"N": str(k)}, "at": {"N": str(stamp)}}} if put else {}),
        }
        for k, stamp, put in changes
    ]
    requests = requests_of(docs, True, ["id"], "here")
    last: dict[int, tuple[int, bool]] = {}
    for k, stamp, put in changes:  # a later line wins a tie, as a later write would
        if k not in last or last[k][0] <= stamp:
            last[k] = (stamp, put)
    by_key = {
        int((r.get("PutRequest", {}).get("Item") or r["DeleteRequest"]["Key"])["id"]["N"]): r
        for r in requests
    }
    assert len(by_key) == len(requests) == len(last)
    for k, (stamp, put) in last.items():
        if put:
            assert by_key[k]["PutRequest"]["Item"]["at"] == {"N": str(stamp)}
        else:
            assert by_key[k] == {"DeleteRequest": {"Key": {"id": {"N": str(k)}}}}


@given(
    st.lists(
        st.tuples(texts(min_size=1), st.integers(0, 10**6), st.binary(max_size=20)), max_size=10
    )
)
def test_a_files_manifest_reads_back(entries: list[tuple[str, int, bytes]]) -> None:
    files = [DataFile(f"p/{k}", n, md5_base64(body), "e") for k, n, body in entries]
    doc = orjson.loads(summary())
    parsed = parse_files(files_manifest(files), parse_summary(summary(), "s"), doc)
    assert parsed == files


@given(st.binary(max_size=100), st.binary(max_size=100))
def test_a_checksum_tells_files_apart(one: bytes, other: bytes) -> None:
    check_checksum(one, md5_base64(one), "f")
    if one != other:
        with pytest.raises(ExportFormatError, match="does not match"):
            check_checksum(other, md5_base64(one), "f")


def test_keys_are_resolved_as_aws_and_the_migrator_write_them() -> None:
    aws = {"s3Bucket": "b", "s3Prefix": "2020-Nov"}
    assert resolve_key(aws, "x", "2020-Nov/AWSDynamoDB/1/data/a.json.gz").startswith("2020-Nov/A")
    assert resolve_key(aws, "x", "AWSDynamoDB/1/data/a.json.gz") == (
        "2020-Nov/AWSDynamoDB/1/data/a.json.gz"
    )
    assert resolve_key({}, "backups/one/manifest-summary.json", "data/00000.json.gz") == (
        "backups/one/data/00000.json.gz"
    )


def incremental(name: str, start: int, end: int, unit: str = "hours") -> Any:
    fields = {
        "exportType": "INCREMENTAL_EXPORT",
        "exportFromTime": (T0 + timedelta(**{unit: start})).isoformat(),
        "exportToTime": (T0 + timedelta(**{unit: end})).isoformat(),
    }
    return parse_summary(summary(name, **fields), name)


FULL = parse_summary(summary("full"), "full")  # taken at T0


@st.composite
def chains(draw: st.DrawFn, gap_at: int | None = None) -> list[tuple[int, int]]:
    """Windows in minutes from T0, each starting at or before the end of the one before
    (the first at or before T0) and ending after it, with starts rising: a chain of
    exports as DynamoDB takes them after a full one, overlaps included. ``gap_at``: that
    window starts after the end of the one before instead."""
    count = draw(st.integers(1 if gap_at is None else gap_at + 1, 6))
    windows: list[tuple[int, int]] = []
    start, end = -draw(st.integers(0, 120)), 0
    for n in range(count):
        if n:
            start = end - draw(st.integers(0, end - windows[-1][0] - 1))
        if n == gap_at:
            start = end + draw(st.integers(1, 60))
        end = max(start, end) + draw(st.integers(1, 180))
        windows.append((start, end))
    return windows


def exports(windows: list[tuple[int, int]]) -> list[Any]:
    return [incremental(f"inc-{n}", a, b, "minutes") for n, (a, b) in enumerate(windows)]


@given(chains(), st.randoms(use_true_random=False))
def test_a_chain_of_windows_is_applied_in_order_whatever_order_it_is_given_in(
    windows: list[tuple[int, int]], shuffle: Any
) -> None:
    chain = exports(windows)
    given_order = [FULL, *chain]
    shuffle.shuffle(given_order)
    assert order_exports(given_order) == [FULL, *chain]


@given(st.integers(0, 5).flatmap(lambda at: st.tuples(st.just(at), chains(gap_at=at))))
def test_a_gap_between_windows_is_refused_naming_both_exports(
    case: tuple[int, list[tuple[int, int]]],
) -> None:
    at, windows = case
    before = "full" if at == 0 else f"inc-{at - 1}"
    with pytest.raises(UserError, match="the changes in between are in neither") as refused:
        order_exports([FULL, *exports(windows)])
    assert f"export inc-{at} starts at" in str(refused.value)
    assert f"after {before} " in str(refused.value)


@given(chains(), st.integers(-600, -1), st.integers(0, 600))
def test_a_window_that_ends_by_the_full_exports_time_is_refused(
    windows: list[tuple[int, int]], start: int, length: int
) -> None:
    old = incremental("old", start, min(start + 1 + length, 0), "minutes")
    with pytest.raises(UserError, match="ends at or before the full export full was taken"):
        order_exports([*exports(windows), old, FULL])


@given(chains(), st.data())
def test_a_window_within_another_one_is_refused(windows: list[tuple[int, int]], data: Any) -> None:
    outer = data.draw(st.integers(0, len(windows) - 1))
    start, end = windows[outer]
    identical = data.draw(st.booleans()) or end - start < 2
    inner_start = start if identical else data.draw(st.integers(max(start + 1, 0), end - 1))
    inner_end = end if identical else data.draw(st.integers(inner_start + 1, end))
    inner = incremental("inner", inner_start, inner_end, "minutes")
    with pytest.raises(UserError, match="lies within the window of") as refused:
        order_exports([inner, FULL, *exports(windows)])
    assert "inner (" in str(refused.value)  # named beside the window that holds it


def test_the_case_of_issue_23_a_window_before_the_full_export_is_refused() -> None:
    # A full export taken at T0 and one incremental export of the hour before it: the
    # states of that hour would be laid over the newer ones of the full export.
    with pytest.raises(UserError) as refused:
        order_exports([FULL, incremental("hour-before", -1, 0)])
    assert str(refused.value) == (
        "the incremental export hour-before (2025-12-31T23:00:00.000Z to "
        "2026-01-01T00:00:00.000Z) ends at or before the full export full was taken "
        "(2026-01-01T00:00:00.000Z): laid over it, its changes would bring back older "
        "states; leave it out of source.manifestKey"
    )


def test_a_full_export_alone_or_without_a_time() -> None:
    with pytest.raises(UserError, match="exactly one FULL export"):
        order_exports([incremental("only", 0, 1)])
    with pytest.raises(UserError, match="exactly one FULL export"):
        order_exports([FULL, parse_summary(summary("other"), "other")])
    untimed = parse_summary(summary("untimed", exportTime=None), "untimed")
    assert order_exports([untimed]) == [untimed]  # as the Scylla Migrator's writer makes them
    with pytest.raises(UserError, match="has no exportTime"):
        order_exports([untimed, incremental("next", 0, 1)])


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        (b"[1]", "is not a JSON object"),
        (summary(exportType="INCREMENTAL_EXPORT"), "has no exportFromTime"),
        (summary(outputFormat="CSV"), "is not DYNAMODB_JSON or ION"),
        (summary(manifestFilesS3Key=None), "has no manifestFilesS3Key"),
        (summary(exportTime="yesterday"), "is not a time"),
    ],
)
def test_a_summary_that_is_not_an_exports(raw: bytes, phrase: str) -> None:
    with pytest.raises(ExportFormatError, match=phrase):
        parse_summary(raw, "k")
