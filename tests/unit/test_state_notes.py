"""The live figures a run notes for `toolkit status`: the last checkpoint is the state's
own (a page of a segment, a step of the replay, a data file of an export)."""

from __future__ import annotations

from pathlib import Path

from toolkit.driver.observers import SnapshotObserver, StateNotes
from toolkit.work.state import RunState


class Quiet:
    """A display that shows nothing."""

    def started(self, segments: int, segments_done: int, items_done: int) -> None:
        pass

    def page_copied(self, items: int, size: int = 0, expired: int = 0) -> None:
        pass

    def segment_done(self) -> None:
        pass

    def finished(self) -> None:
        pass


def test_an_exports_pages_are_no_checkpoint_its_data_files_are(tmp_path: Path) -> None:
    state = RunState(tmp_path / "run.sqlite")
    observer = SnapshotObserver(Quiet(), None, StateNotes(state))
    observer.started(2, 0, 0)
    observer.page_copied(10)  # written to the data file in progress: nothing recorded yet
    assert state.get("checkpoint_at") is None and state.checkpointed_at is None
    state.export_file_done("export", "data/00000.json.gz", 10)
    observer.segment_done()
    assert state.checkpointed_at is not None
    assert state.get("checkpoint_at") == str(state.checkpointed_at)
    assert state.get("segments_done") == "1"
    state.close()


def test_a_segments_page_is_noted_at_its_checkpoint(tmp_path: Path) -> None:
    state = RunState(tmp_path / "run.sqlite")
    state.segments(1)
    observer = SnapshotObserver(Quiet(), None, StateNotes(state))
    observer.started(1, 0, 0)
    state.checkpoint(0, {"id": {"S": "k"}}, 10)
    observer.page_copied(10)  # the first checkpoint is noted at once, not a second later
    assert state.get("checkpoint_at") == str(state.checkpointed_at)
    state.close()
