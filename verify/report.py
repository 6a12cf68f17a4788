"""What a pass found, for people (a rich table) and for programs (JSON lines).

Confirmed differences stream through ``Findings``: counted, written to the report
file at once, handed to the repairer, and only the first few kept for the screen,
so a table with millions of differences still fits in memory.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from rich.console import Console
from rich.table import Table

from toolkit.driver.metrics import Metrics
from verify.compare import PassResult
from verify.diff import Difference, Kind
from verify.repair import Repairer

KEY_CHARS = 120  # a key longer than this is cut on the screen (never in the report file)
LABELS: dict[Kind, str] = {
    "missing": "missing in target",
    "extra": "extra in target",
    "different": "different",
}


class ReportFile:
    """JSON lines, one per difference and one summary per pass; None writes nothing."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, line: dict[str, Any]) -> None:
        if self._stream is None:
            return
        data = orjson.dumps(line) + b"\n"
        with self._lock:
            self._stream.write(data)

    def flush(self) -> None:
        if self._stream is not None:
            self._stream.flush()


class TableReport(ReportFile):
    """One table's lines in the report file of a verify of several: each names its table."""

    def __init__(self, report: ReportFile, table: str) -> None:
        super().__init__(None)
        self._report, self._table = report, table

    def write(self, line: dict[str, Any]) -> None:
        self._report.write({"table": self._table, **line})

    def flush(self) -> None:
        self._report.flush()


@dataclass
class Findings:
    """The sink of one pass: counts, the report file, the repairer, a few for the screen."""

    pass_number: int
    report: ReportFile
    keep: int
    repairer: Repairer | None = None
    limit: int | None = None  # validation.failuresToFetch: the pass stops at this many
    stop: threading.Event = field(default_factory=threading.Event)  # set at the limit
    metrics: Metrics | None = None  # counts differences, when served
    counts: Counter[str] = field(default_factory=Counter)
    kept: list[Difference] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def confirmed(self, difference: Difference) -> None:
        with self._lock:
            if self.limit is not None and self.total >= self.limit:
                return  # past the limit: neither counted nor repaired, as if not fetched
            self.counts[difference.kind] += 1
            if len(self.kept) < self.keep:
                self.kept.append(difference)
            if self.limit is not None and self.total >= self.limit:
                self.stop.set()
        if self.metrics is not None:
            self.metrics.differences.labels(difference.kind).inc()
        action = self.repairer.add(difference) if self.repairer else None
        self.report.write(difference_line(difference, self.pass_number, action))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def stopped_at_limit(self) -> bool:
        return self.limit is not None and self.total >= self.limit

    def finish(self) -> int:
        """Write what the repairer still holds; return how many items it wrote."""
        if self.repairer is None:
            return 0
        self.repairer.finish()
        return self.repairer.written


@dataclass(frozen=True)
class Summary:
    source_table: str
    target_table: str
    pass_number: int
    result: PassResult
    missing: int
    extra: int
    different: int
    repaired: int | None  # None: --repair was not asked for
    stopped_at: int | None = None  # the pass stopped at validation.failuresToFetch differences

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.different

    @property
    def identical(self) -> bool:
        return self.differences == 0

    def by_kind(self) -> dict[Kind, int]:
        return {"missing": self.missing, "extra": self.extra, "different": self.different}

    def as_json(self) -> dict[str, Any]:
        forward, backward = self.result.forward, self.result.backward
        directions = self.result.directions
        return {
            "kind": "summary",
            "pass": self.pass_number,
            "source_table": self.source_table,
            "target_table": self.target_table,
            "identical": self.identical,
            "items_in_source": forward.tally.items,
            "items_in_target": None if backward is None else backward.tally.items,
            "identical_items": forward.tally.identical,
            "missing": self.missing,
            "extra": None if backward is None else self.extra,
            "different": self.different,
            "expired_skipped": sum(d.tally.expired for d in directions),
            "suspects_rechecked": sum(d.tally.suspects for d in directions),
            "settled_on_recheck": sum(d.tally.settled for d in directions),
            "repaired": self.repaired,
            "stopped_at_failures": self.stopped_at,
            "directions": [
                {"direction": d.name, "items": d.tally.items, "seconds": round(d.seconds, 3)}
                for d in directions
            ],
        }


def summarize(
    findings: Findings, result: PassResult, source_table: str, target_table: str
) -> Summary:
    repaired = findings.finish() if findings.repairer is not None else None
    counts = findings.counts
    return Summary(
        source_table,
        target_table,
        findings.pass_number,
        result,
        counts["missing"],
        counts["extra"],
        counts["different"],
        repaired,
        findings.limit if findings.stopped_at_limit else None,
    )


def difference_line(difference: Difference, pass_number: int, action: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "kind": difference.kind,
        "pass": pass_number,
        "key": difference.key,
        "changes": [
            {"path": c.path, "change": c.what, "source": c.source, "target": c.target}
            for c in difference.changes
        ],
        "source": difference.source,
        "target": difference.target,
    }
    if action is not None:
        line["repair"] = action
    return line


# --- the screen ------------------------------------------------------------------------


def print_report(console: Console, summary: Summary, findings: Findings) -> None:
    for difference in findings.kept:
        _print_difference(console, difference)
    hidden = summary.differences - len(findings.kept)
    if hidden > 0:
        console.print(f"... and {hidden:,} more (--report FILE lists every difference)")
    console.print(heading(summary), markup=False, highlight=False, soft_wrap=True)
    console.print(summary_table(summary))
    for line in notes(summary):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_difference(console: Console, difference: Difference) -> None:
    key = orjson.dumps(difference.key).decode()
    if len(key) > KEY_CHARS:
        key = key[: KEY_CHARS - 1] + "…"
    console.print(
        f"{LABELS[difference.kind]:<18} {key}", markup=False, highlight=False, soft_wrap=True
    )
    for change in difference.changes:
        console.print(f"    {change.line()}", markup=False, highlight=False, soft_wrap=True)


def heading(summary: Summary) -> str:
    tables = f"{summary.source_table} → {summary.target_table}"
    return tables if summary.pass_number == 1 else f"{tables} (comparison {summary.pass_number})"


def summary_table(summary: Summary) -> Table:
    forward, backward = summary.result.forward, summary.result.backward
    not_scanned = "not scanned (--both-directions)"
    table = Table()
    table.add_column("items")
    table.add_column("count", justify="right")
    rows = (
        ("in source", f"{forward.tally.items:,}"),
        ("in target", not_scanned if backward is None else f"{backward.tally.items:,}"),
        ("identical", f"{forward.tally.identical:,}"),
        ("missing in target", f"{summary.missing:,}"),
        ("extra in target", "not looked for" if backward is None else f"{summary.extra:,}"),
        ("different", f"{summary.different:,}"),
    )
    for name, count in rows:
        table.add_row(name, count)
    return table


def notes(summary: Summary) -> list[str]:
    directions = summary.result.directions
    lines = [
        f"{d.name}: {d.tally.items:,} items in {d.seconds:.1f} s, {d.items_per_second:,.0f} items/s"
        for d in directions
    ]
    expired = sum(d.tally.expired for d in directions)
    if expired:
        lines.append(f"{expired:,} items with an expired TTL were skipped, as migrate skips them")
    suspects = sum(d.tally.suspects for d in directions)
    if suspects:
        settled = sum(d.tally.settled for d in directions)
        lines.append(
            f"{suspects:,} suspects read again with consistent reads: "
            f"{settled:,} matched or were gone, {suspects - settled:,} confirmed"
        )
    if summary.repaired is not None:
        lines.append(f"repaired: {summary.repaired:,} items written or deleted in the target")
    if summary.stopped_at is not None:
        lines.append(
            f"stopped after {summary.stopped_at:,} differences (validation.failuresToFetch): "
            "there may be more"
        )
    lines.append(verdict(summary))
    return lines


def verdict(summary: Summary) -> str:
    if summary.identical:
        scope = "both directions" if summary.result.backward else "source → target"
        return f"IDENTICAL ({scope})"
    counts = summary.by_kind()
    parts = [f"{counts[kind]:,} {label}" for kind, label in LABELS.items() if counts[kind]]
    return "DIFFERENT: " + ", ".join(parts)
