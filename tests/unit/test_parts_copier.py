"""The one copy loop and the copier that runs it, with a source and a target in memory.

What every pair of source and target relies on: a part ends only at its last page,
after the target closed it; expired items are not written and renamed attributes
are; waves run one after the other; a part is recorded once (by its pages when they
are checkpointed, else whole when its unit ends); what the state says is done is
not copied again.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import given
from hypothesis import strategies as st

from toolkit.config import parse_config
from toolkit.connectors.base import CopyJob, Page, Part, Request
from toolkit.work.copy import CopyTools, PageCopied, PartCopied, PartStart, copy_part
from toolkit.work.ledger import Ledger
from toolkit.work.snapshot import PartsCopier
from toolkit.work.state import RunState

U = TypeVar("U")
R = TypeVar("R")
NOW = 1_000_000.0
CONFIG = parse_config(
    {"source": {"table": "src", "region": "eu-west-1"}, "target": {"table": "dst", "region": "x"}}
)


def job(**changes: Any) -> CopyJob:
    fields: dict[str, Any] = {
        "config": CONFIG,
        "source_table": "src",
        "key_names": ("id",),
        "target_keys": ("id",),
        "ttl_attribute": "ttl",
        "workers": 2,
        "read_units": None,
        "write_units": None,
        "patience": 1.0,
    }
    return CopyJob(**(fields | changes))


def put(key: str, **attributes: dict[str, str]) -> Request:
    return {"PutRequest": {"Item": {"id": {"S": key}, **attributes}}}


class Pages:
    """A source whose parts are lists of pages; each page's position is its index."""

    def __init__(self, parts: dict[int, list[list[Request]]]) -> None:
        self.parts = parts
        self.read_from: list[tuple[int, Any]] = []

    def pages(self, part: Part, position: Any) -> Iterator[Page]:
        self.read_from.append((part.number, position))
        pages = self.parts[part.number]
        first = 0 if position is None else position + 1
        for n in range(first, len(pages)):
            yield Page(pages[n], 10, None if n == len(pages) - 1 else n)


class Sink:
    def __init__(self, written: list[Request], closed: list[int], part: Part) -> None:
        self.written, self.closed, self.part = written, closed, part

    def write(self, requests: list[Request]) -> int | None:
        self.written.extend(requests)
        return None

    def close(self) -> Any:
        self.closed.append(self.part.number)
        return {"part": self.part.number}


class Memory:
    """A target that keeps what it was given."""

    def __init__(self) -> None:
        self.written: list[Request] = []
        self.closed: list[int] = []

    @contextmanager
    def part(self, part: Part) -> Iterator[Sink]:
        yield Sink(self.written, self.closed, part)


def test_a_part_drops_expired_items_renames_the_rest_and_ends_when_the_target_closed_it() -> None:
    expired, kept = put("a", ttl={"N": str(NOW - 1)}), put("b", ttl={"N": str(NOW + 60)})
    deleted = {"DeleteRequest": {"Key": {"id": {"S": "c"}, "n": {"S": "x"}}}}
    source, target = Pages({0: [[expired, kept], [deleted]]}), Memory()
    pages: list[PageCopied] = []
    copied = copy_part(
        job(renames={"ttl": "expires", "n": "m"}),
        PartStart(Part("segment 0", 0)),
        CopyTools(source, target, now=lambda: NOW),
        pages.append,
    )
    assert target.written == [
        {"PutRequest": {"Item": {"id": {"S": "b"}, "expires": {"N": str(NOW + 60)}}}},
        {"DeleteRequest": {"Key": {"id": {"S": "c"}, "m": {"S": "x"}}}},
    ]
    assert [(p.position, p.items, p.expired) for p in pages] == [(0, 1, 1), (None, 1, 0)]
    assert copied.done and copied.detail == {"part": 0} and target.closed == [0]
    assert (copied.items, copied.expired, copied.size) == (2, 1, 20)


def test_a_stop_mid_part_leaves_it_unfinished_and_unclosed() -> None:
    stop = threading.Event()
    source, target = Pages({0: [[put("a")], [put("b")], [put("c")]]}), Memory()
    copied = copy_part(
        job(),
        PartStart(Part("segment 0", 0)),
        CopyTools(source, target, stop),
        lambda _: stop.set(),
    )
    assert not copied.done and target.closed == [] and target.written == [put("a")]


class InOrder:
    """An engine that runs units one at a time and notes each run's units."""

    name, in_process, one_machine, parallelism = "in order", True, True, None

    def __init__(self, stop_after_runs: int | None = None) -> None:
        self.runs: list[list[str]] = []
        self.stop_after_runs = stop_after_runs

    def run(
        self,
        work: Any,
        units: Sequence[U],
        running: int,
        done: Callable[[U, R], None],
        stop: threading.Event,
    ) -> None:
        self.runs.append([start.part.name for start in units])  # type: ignore[attr-defined]
        with work.open(1.0) as do:
            for unit in units:
                done(unit, do(unit))
        if self.stop_after_runs == len(self.runs):
            stop.set()


class Whole:
    """Work whose every part copies at once, recorded whole (as an export's data file)."""

    def __init__(self) -> None:
        self.copied: list[str] = []

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[PartStart], PartCopied]]:
        def one(start: PartStart) -> PartCopied:
            self.copied.append(start.part.name)
            return PartCopied(start.part, True, items=3, detail={"md5": start.part.key})

        yield one


class Progress:
    def __init__(self) -> None:
        self.items = self.parts = 0

    def started(self, segments: int, segments_done: int, items_done: int) -> None: ...
    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None:
        self.items += items

    def segment_done(self) -> None:
        self.parts += 1

    def finished(self) -> None: ...


def files(group: str, count: int) -> list[Part]:
    return [Part(f"{group}/{n}", n, group, f"f{n}", resumable=False) for n in range(count)]


def copier(state: RunState, waves: list[list[Part]], engine: Any, work: Any) -> PartsCopier:
    stop = threading.Event()
    return PartsCopier(waves, work, engine, Ledger(state), Progress(), stop, 2, False)


def test_waves_run_in_order_and_a_stop_after_one_leaves_the_next_for_the_next_run(
    tmp_path: Path,
) -> None:
    waves = [files("full", 3), files("incremental", 2)]
    state = RunState(tmp_path / "run.sqlite")
    engine, work = InOrder(stop_after_runs=1), Whole()
    first = copier(state, waves, engine, work).run()
    assert not first.complete and engine.runs == [["full/0", "full/1", "full/2"]]
    assert Ledger(state).files(waves[0]) == {f"f{n}": (3, {"md5": f"f{n}"}) for n in range(3)}
    engine = InOrder()
    second = copier(state, waves, engine, work).run()
    assert second.complete and engine.runs == [[], ["incremental/0", "incremental/1"]]
    assert work.copied == ["full/0", "full/1", "full/2", "incremental/0", "incremental/1"]
    state.close()


class Checkpointed:
    """Work that checkpoints a segment's two pages itself, as the embedded engine's does."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    @contextmanager
    def open(self, share: float) -> Iterator[Callable[[PartStart], PartCopied]]:
        def one(start: PartStart) -> PartCopied:
            self.ledger.page(start.part, {"id": {"S": "k"}}, 4)
            self.ledger.page(start.part, None, 5)
            return PartCopied(start.part, True, items=9)

        yield one


def test_a_segment_checkpointed_page_by_page_is_recorded_once(tmp_path: Path) -> None:
    state = RunState(tmp_path / "run.sqlite")
    ledger, progress = Ledger(state), Progress()
    work, stop = Checkpointed(ledger), threading.Event()
    segments = [[Part("segment 0", 0)]]
    summary = PartsCopier(segments, work, InOrder(), ledger, progress, stop, 1, True).run()
    assert summary.complete and state.segments(1)[0].items == 9 and progress.parts == 1
    state.close()


@given(
    st.sets(st.integers(0, 5)),
    st.dictionaries(st.integers(0, 5), st.integers(0, 50)),
    st.sets(st.integers(0, 3)),
)
def test_what_the_state_says_is_done_is_never_copied_again(
    done_segments: set[int], started: dict[int, int], done_files: set[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        state = RunState(Path(folder) / "run.sqlite")
        ledger = Ledger(state)
        segments, exported = [Part(f"segment {n}", n) for n in range(6)], files("e", 4)
        for n, key in started.items():
            ledger.page(segments[n], {"id": {"S": str(key)}}, 1)
        for n in done_segments:
            ledger.done(segments[n], 2, None)
        for n in done_files:
            ledger.done(exported[n], 7, {"md5": "m"})
        standing = ledger.standing([*segments, *exported])
        todo = [(s.part.name, s.position) for s in standing.todo]
        assert todo == [
            *(
                (p.name, {"id": {"S": str(started[p.number])}} if p.number in started else None)
                for p in segments
                if p.number not in done_segments
            ),
            *((p.name, None) for p in exported if p.number not in done_files),
        ]
        assert standing.done == len(done_segments) + len(done_files)
        state.close()
