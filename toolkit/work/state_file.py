"""A state file as SQLite sees it, read without writing anything beside it.

In WAL mode SQLite's view of a file is the file plus the commits still in its -wal:
after a crash, a kill -9 or a full disk, the last ones are only there. Opening the
file ``immutable`` ignores the -wal; opening it read-only needs its -shm (SQLite
creates one beside it, and fails in a read-only folder). So when a -wal or a
rollback -journal with content lies beside the file, the file and these are copied
into a private folder and the copy is opened: SQLite recovers the copy as it would
the file, and nothing is written beside the original, be it a run's state or a
foreign file. Only where no process writes the file: the run holding its lock, or
`toolkit status` when no run is live (a live run is read through SQLite's own
shared memory instead).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from toolkit.errors import UserError

PENDING = ("-wal", "-journal")  # what SQLite applies to (or rolls back from) the file


@contextmanager
def as_sqlite_sees_it(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` as SQLite would open it, for reading only.

    Raises sqlite3.Error for a file SQLite refuses, UserError when it cannot be copied.
    """
    pending = [suffix for suffix in PENDING if _has_content(Path(f"{path}{suffix}"))]
    if not pending:  # the file alone is what SQLite sees: read it in place
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        with closing(sqlite3.connect(uri, uri=True)) as db:
            yield db
        return
    with tempfile.TemporaryDirectory(prefix="toolkit-state-") as folder:
        copy = Path(folder) / "state.sqlite"
        try:
            for suffix in ("", *pending):
                shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
        except OSError as error:
            full = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            fix = "free space there or set TMPDIR to a folder with room" if full else "check rights"
            raise UserError(
                f"cannot read the state file {path} and its {' and '.join(pending)} through a "
                f"private copy in {Path(folder).parent} ({error.strerror or error}); {fix}"
            ) from None
        # Read-write: a copy's hot journal is rolled back, its WAL recovered, as SQLite would.
        with closing(sqlite3.connect(copy)) as db:
            yield db


def check_state_file(path: Path) -> None:
    """Refuse a file that is not a sound state file, before anything writes to it."""
    if not path.exists():
        return
    fix = "move it away or give another --state (the run's progress is in that file)"
    try:
        with as_sqlite_sees_it(path) as db:
            check = db.execute("PRAGMA quick_check").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        problem = f"is not a sound SQLite database ({error})"
        raise UserError(f"the state file {path} {problem}; {fix}") from None
    if check is None or check[0] != "ok":
        found = check[0] if check else "no answer"
        raise UserError(f"the state file {path} is damaged ({found}); {fix}")
    if tables and "run" not in tables:
        problem = "is an SQLite database of something else, not a run's state"
        raise UserError(f"the state file {path} {problem}; {fix}")


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False
