"""Where each part of the copy is recorded in the run's state, and read back.

A scan segment is a row of ``segments`` (its last page's key, so a restart goes on
after it); a part recorded whole (an export's data file, read or written) is a row
of ``export_files`` under its group (the export's ARN or id). These are the rows
the state files of earlier versions hold, so their runs resume as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.connectors.base import Part
from toolkit.work.copy import PartStart
from toolkit.work.state import RunState


@dataclass(frozen=True)
class Standing:
    """What the state says of some parts."""

    todo: list[PartStart]  # the parts to copy, in order, each from its recorded position
    done: int  # parts done
    items: int  # items recorded, of done and started parts


@dataclass
class Ledger:
    state: RunState

    def standing(self, parts: Sequence[Part]) -> Standing:
        segments = [p.number for p in parts if p.group is None]
        rows = {s.segment: s for s in self.state.segments(max(segments) + 1)} if segments else {}
        files = {g: self.state.export_files_done(g) for g in {p.group for p in parts} if g}
        todo: list[PartStart] = []
        done = items = 0
        for part in parts:
            if part.group is None:
                row = rows[part.number]
                finished, count, position = row.done, row.items, row.last_key
            else:
                entry = files[part.group].get(part.key)
                finished, count, position = entry is not None, entry[0] if entry else 0, None
            done, items = done + finished, items + count
            if not finished:
                todo.append(PartStart(part, position))
        return Standing(todo, done, items)

    def all_done(self, parts: Sequence[Part]) -> bool:
        """Whether every part is recorded as done (cheaper than ``standing``: no starts)."""
        segments = self.state.segments_done() if any(p.group is None for p in parts) else set()
        files = {g: self.state.export_files_done(g) for g in {p.group for p in parts} if g}
        return all(
            p.number in segments if p.group is None else p.key in files[p.group] for p in parts
        )

    def page(self, part: Part, position: Any, items: int) -> None:
        """A resumable part's page is written: go on after ``position`` (None: it is done)."""
        self.state.checkpoint(part.number, position, items)

    def done(self, part: Part, items: int, detail: Any) -> None:
        if part.group is None:
            self.state.checkpoint(part.number, None, items)
        else:
            self.state.export_file_done(part.group, part.key, items, detail)

    def files(self, parts: Sequence[Part]) -> dict[str, tuple[int, Any]]:
        """Of these parts' groups, the files recorded whole: file key -> (items, detail)."""
        groups = {part.group for part in parts if part.group is not None}
        return {k: v for g in groups for k, v in self.state.export_files_done(g).items()}
