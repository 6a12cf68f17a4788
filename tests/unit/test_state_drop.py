"""A state file that a refused run created and used for nothing but its claims is removed;
one that recorded progress, or that was there before the run, stays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from toolkit.work.state import RunState


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_new_state_with_claims_only_is_dropped_with_its_lock(tmp_path: Path) -> None:
    state = RunState(tmp_path / "run.sqlite")
    state.claim("source table", "orders", "")
    state.close(drop_if_untouched=True)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "progress",
    [
        lambda state: state.touching(),
        lambda state: state.put("snapshot", "done"),
        lambda state: state.record_shards([("shard-1", None)], at_enabling=True),
        lambda state: state.export_file_done("export", "data/1.json.gz", 3),
    ],
)
def test_a_new_state_that_was_used_stays(
    tmp_path: Path, progress: Callable[[RunState], None]
) -> None:
    state = RunState(tmp_path / "run.sqlite")
    state.claim("source table", "orders", "")
    progress(state)
    state.close(drop_if_untouched=True)
    assert "run.sqlite" in leftovers(tmp_path)
    again = RunState(tmp_path / "run.sqlite")
    assert again.get("source table") == "orders"
    again.close()


def test_a_state_that_was_there_before_stays(tmp_path: Path) -> None:
    first = RunState(tmp_path / "run.sqlite")
    first.claim("source table", "orders", "")
    first.close()
    second = RunState(tmp_path / "run.sqlite")
    assert not second.created
    second.close(drop_if_untouched=True)
    assert "run.sqlite" in leftovers(tmp_path)


def test_a_lock_file_that_was_there_before_stays(tmp_path: Path) -> None:
    (tmp_path / "run.sqlite.lock").write_text("")
    state = RunState(tmp_path / "run.sqlite")
    state.close(drop_if_untouched=True)
    assert leftovers(tmp_path) == ["run.sqlite.lock"]


def test_folders_made_for_a_dropped_state_go_with_it(tmp_path: Path) -> None:
    state = RunState(tmp_path / "runs" / "orders" / "run.sqlite")
    state.close(drop_if_untouched=True)
    assert leftovers(tmp_path) == []


def test_folders_made_for_a_kept_state_stay(tmp_path: Path) -> None:
    state = RunState(tmp_path / "runs" / "run.sqlite")
    state.touching()
    state.close(drop_if_untouched=True)
    assert leftovers(tmp_path / "runs") == ["run.sqlite", "run.sqlite.lock"]
