"""A state file on a full disk: the run stops with one line; once space is freed the
same command resumes from what the state holds (its last commits in its -wal, as
the disk filled before a checkpoint could run) and the target ends identical.

The disk is a small tmpfs where the test may mount one. Where it may not, a file size
limit on the run's process (RLIMIT_FSIZE) fills it instead: SQLite's writes past it
fail as on a full disk (as an I/O error rather than SQLITE_FULL), and lifting the limit
frees the space.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import pytest

from tests.e2e.test_state_wal import ITEMS, identical, run_with_file_size_limit, snapshot_of
from tests.e2e.test_status_kinds import status_json
from tests.helpers import error_line, run_cli
from tests.mounts import small_disk
from tests.refusals import Case

DISK_KB, ROOM_KB = 16384, 300  # the disk, and what is left of it for the run's state


@pytest.mark.parametrize("means", ["a full filesystem", "a file size limit"])
def test_a_run_stopped_by_a_full_disk_resumes_once_space_is_freed(
    case: Case, tmp_path: Path, means: str
) -> None:
    config = snapshot_of(case, tmp_path)
    disk = tmp_path / "disk"
    disk.mkdir()
    state = disk / "run.sqlite"
    args = ("migrate", "--config", str(config), "--state", str(state), "--scan-page-items", "10")
    full = small_disk(disk, DISK_KB) if means == "a full filesystem" else nullcontext(False)
    with full as mounted:
        if mounted:
            filler = disk / "filler"
            filler.write_bytes(bytes((DISK_KB - ROOM_KB) * 1024))
            first = run_cli(*args)
            assert Path(f"{state}-wal").stat().st_size > 0  # commits no checkpoint could take
        else:
            first = run_with_file_size_limit(ROOM_KB * 1024, *args)
        stopped_by = "database or disk is full" if mounted else "disk I/O error"
        assert f"the run's state file failed ({stopped_by})" in error_line(first)

        code, stopped = status_json(state)  # the disk still full: status writes nothing there
        assert code == 1 and not stopped["live"] and stopped["phase"] == "snapshot"
        assert 0 < stopped["items_copied"] < ITEMS and stopped["segments_total"] == 4
        if mounted:
            filler.unlink()

        resumed = run_cli(*args)

        assert resumed.returncode == 0, resumed.stderr
        assert f"Snapshot done: {ITEMS - stopped['items_copied']} items" in resumed.stdout
        assert identical(case)
        code, finished = status_json(state)
        assert code == 0 and finished["phase"] == "done" and finished["items_copied"] == ITEMS
