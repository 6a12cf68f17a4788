"""A replay step's shard checkpoints are recorded in one transaction: all or none."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, cast

import pytest

from toolkit.work.state import RunState, ShardCheckpoint


def progress(state: RunState) -> dict[str, tuple[str | None, bool]]:
    return {s.shard_id: (s.sequence, s.finished) for s in state.shards()}


def test_a_steps_checkpoints_are_recorded_together_and_keep_what_they_do_not_move(
    tmp_path: Path,
) -> None:
    state = RunState(tmp_path / "state.db")
    state.record_shards([("a", None), ("b", None), ("c", "a")], False)
    state.checkpoint_shards(
        [ShardCheckpoint("a", "5", 2, False), ShardCheckpoint("b", "7", 1, False)]
    )
    state.checkpoint_shards([ShardCheckpoint("a", None, 0, True)])  # its end: nothing new
    assert progress(state) == {"a": ("5", True), "b": ("7", False), "c": (None, False)}


def test_a_step_that_cannot_be_recorded_moves_no_checkpoint(tmp_path: Path) -> None:
    state = RunState(tmp_path / "state.db")
    state.record_shards([("a", None), ("b", None)], False)
    unbindable = cast(Any, {"not": "a sequence number"})
    with pytest.raises(sqlite3.Error):
        state.checkpoint_shards(
            [ShardCheckpoint("a", "5", 2, False), ShardCheckpoint("b", unbindable, 1, False)]
        )
    assert progress(state) == {"a": (None, False), "b": (None, False)}
    state.checkpoint_shards([ShardCheckpoint("b", "9", 1, False)])  # no transaction left open
    assert progress(state)["b"] == ("9", False)
