"""Filesystems a test mounts where it may: a small tmpfs (a disk that fills up), a
read-only view of a folder. Mounting needs root and a mount the machine allows (a CI
container may refuse it); each helper says whether it mounted, so that a test uses
another real means where it could not, never a skip.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _mount(*args: str) -> bool:
    try:
        done = subprocess.run(["mount", *args], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _unmount(folder: Path) -> None:
    subprocess.run(["umount", str(folder)], capture_output=True, timeout=30, check=True)


@contextmanager
def small_disk(folder: Path, size_kb: int) -> Iterator[bool]:
    """A tmpfs of ``size_kb`` KB on ``folder`` (made if need be); whether it is one."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = _mount("-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder))
    try:
        yield mounted
    finally:
        if mounted:
            _unmount(folder)


@contextmanager
def read_only_view(folder: Path) -> Iterator[Path | None]:
    """``folder`` as a read-only filesystem (a read-only bind mount beside it), or None."""
    view = folder.with_name(f"{folder.name}-read-only")
    view.mkdir()
    if not _mount("--bind", str(folder), str(view)):
        view.rmdir()
        yield None
        return
    try:
        if not _mount("-o", "remount,ro,bind", str(view)):
            yield None
            return
        yield view
    finally:
        _unmount(view)
        view.rmdir()
