"""When is the stream drained: every shard read to its end, or past the pin.

Pure bookkeeping (no I/O), fed by the replay's coordinator. A shard is quiet once
it is read to its current end (toolkit.logic.poll_backoff.read_to_its_end: one
empty page after records, three before any); a finished shard still counts until its
children are known, since its changes go on in them. Under --stop-when-drained
the run also pins a moment: a shard that applied a change made after it (and so
each of its children) counts as well, so that a load that runs on does not keep
the run going: every change made before the pin is on the target by then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from toolkit.logic.poll_backoff import read_to_its_end


class DrainWatch:
    def __init__(self, polls_to_drain: int, settle_seconds: float, clock: Callable[[], float]):
        self._polls, self._settle, self._clock = polls_to_drain, settle_seconds, clock
        self._unquiet: set[str] = set()  # unfinished shards not yet seen empty often enough
        self._childless: set[str] = set()  # finished shards whose children are not known yet
        self._pin: float | None = None  # changes made before this must be on the target
        self._past_pin: set[str] = set()  # shards that applied a change made after the pin
        self._quiet_since: float | None = None  # when every shard last became quiet
        self.listed = False  # the whole stream was listed in this run

    def pin(self, at: float) -> None:
        self._pin = at

    def open(self, shards: Iterable[str]) -> None:
        """Unfinished shards (from the state, or new) to be read before drained."""
        self._unquiet.update(shards)
        self._mark_quiet()

    def added(self, shard: str, parent: str | None) -> None:
        if parent in self._past_pin:  # its changes all came after its parent's
            self._past_pin.add(shard)
        else:
            self._unquiet.add(shard)
        if parent is not None:
            self._childless.discard(parent)
        self._mark_quiet()

    def applied(self, shard: str, newest: float | None) -> None:
        """``shard`` applied changes up to one made at ``newest``."""
        if self._pin is not None and (newest or 0.0) > self._pin:
            self._past_pin.add(shard)
            self._unquiet.discard(shard)
            self._childless.discard(shard)

    def polled(self, shard: str, empty_polls: int, had_records: bool) -> None:
        """``shard`` came back empty ``empty_polls`` times in a row, after showing
        records in this run or not."""
        if read_to_its_end(empty_polls, had_records, self._polls) or shard in self._past_pin:
            self._unquiet.discard(shard)
        else:
            self._unquiet.add(shard)
        self._mark_quiet()

    def finished(self, shard: str, children_known: bool) -> None:
        self._unquiet.discard(shard)
        if not children_known and shard not in self._past_pin:
            self._childless.add(shard)
        self._mark_quiet()

    def drained(self, unfinished: int) -> bool:
        """Every shard quiet (or past the pin), every finished one's children known,
        the stream listed; a source that shows records late (Alternator: ~10 s after
        the write) must also have been quiet for ``settle_seconds``."""
        settled = (
            self._quiet_since is not None and self._clock() - self._quiet_since >= self._settle
        )
        return (
            self.listed and not self._unquiet and not self._childless and unfinished > 0 and settled
        )

    def _mark_quiet(self) -> None:
        if self._unquiet:
            self._quiet_since = None
        elif self._quiet_since is None:
            self._quiet_since = self._clock()
