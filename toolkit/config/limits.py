"""Every number a user can give, with its range: one table for the config file and the flags.

A number is checked here before anything it sizes is built (threads, connections,
state rows, a key space) and before any table is touched. The same number has the
same range whether it comes from a key or a flag, and a refusal says the range,
the value and what to do. The ranges are the services' own (DynamoDB's, the
Scylla Migrator's types) or, where those allow more than a run can hold, what
bench/segments.py measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from toolkit.logic.sizing import MOST_AT_ONCE, MOST_SEGMENTS

LONG = 2**63 - 1  # the Scylla Migrator reads these as Java longs
INT = 2**31 - 1  # ... and these as Java ints


@dataclass(frozen=True)
class Limit:
    low: float
    high: float
    above: str  # why no more, and what to do: said when a value is too high
    below: str = "correct the value"  # said when a value is too low
    integer: bool = True
    low_open: bool = False  # the low end itself is refused (a duration of 0)
    unit: str = ""  # e.g. "seconds", after the range

    @property
    def expected(self) -> str:
        kind = "an integer" if self.integer else "a number"
        unit = f" {self.unit}" if self.unit else ""
        if self.low_open:
            return f"{kind} above {_number(self.low)} and at most {_number(self.high)}{unit}"
        return f"{kind} from {_number(self.low)} to {_number(self.high)}{unit}"

    def holds(self, value: float) -> bool:
        above_low = value > self.low if self.low_open else value >= self.low
        return above_low and value <= self.high  # NaN is neither: refused

    def fix(self, value: float) -> str:
        """What to do about a number outside the range."""
        return self.above if value > self.high else self.below

    def refusal(self, shown: str, value: float | None) -> str:
        """``must be ..., got SHOWN; what to do``: a flag's error, worded as a key's."""
        if value is None:
            fix = "write digits only" if self.integer else "write a number"
        else:
            fix = self.fix(value)
        return f"must be {self.expected}, got {shown}; {fix}"

    def flag(self) -> click.ParamType[Any, Any]:
        """The click type of a flag that takes this number (--help shows its range)."""
        return _Integers(self) if self.integer else _Numbers(self)


class _Integers(click.IntRange):
    def __init__(self, limit: Limit) -> None:
        super().__init__(int(limit.low), int(limit.high), min_open=limit.low_open)
        self.limit = limit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        return int(_checked(self, self.limit, value, param, ctx))


class _Numbers(click.FloatRange):
    def __init__(self, limit: Limit) -> None:
        super().__init__(limit.low, limit.high, min_open=limit.low_open)
        self.limit = limit

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        return float(_checked(self, self.limit, value, param, ctx))


def _checked(
    kind: click.ParamType[Any, Any],
    limit: Limit,
    value: object,
    param: click.Parameter | None,
    ctx: click.Context | None,
) -> float:
    """The value as a number within ``limit``; else click's error, worded as a key's."""
    text = str(value).strip()
    shown = text if len(text) <= 40 else f"{text[:40]}..."
    try:
        number = value if isinstance(value, int | float) else _parse(text, limit.integer)
    except ValueError:
        kind.fail(limit.refusal(repr(shown), None), param, ctx)
    if not limit.holds(number):
        kind.fail(limit.refusal(shown, number), param, ctx)
    return number


def _parse(text: str, integer: bool) -> float:
    return int(text) if integer else float(text)


def _number(value: float) -> str:
    """A bound as the user reads it: 65535, 100,000, 0.1 or 1e+300."""
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 1e15):
        return f"{value:g}"
    whole = int(value)
    return f"{whole:,}" if abs(whole) >= 100_000 else str(whole)


_BATCH = "BatchWriteItem takes at most {} items on {}"


def _seconds(high: float, above: str, *, low_open: bool = False) -> Limit:
    return Limit(0, high, above, integer=False, low_open=low_open, unit="seconds")


# --- sizes: each grows something this process holds (bench/segments.py measured them) --
SCAN_SEGMENTS = Limit(
    1,
    MOST_SEGMENTS,
    "a run plans every segment before the first item: 100,000 take 5 s and 260 MB, "
    "1,000,000 (DynamoDB's own limit) a minute and 2.3 GB, and at most 256 run at once; "
    "give at most 10,000, or leave it out (one per 128 MB)",
)
SKIPPED_SEGMENT = Limit(0, SCAN_SEGMENTS.high - 1, "a scan has at most 10,000 segments, from 0")
MAP_TASKS = Limit(
    1,
    MOST_AT_ONCE,
    "each is a thread with a connection to each side (256: about 520 sockets, under the "
    "usual limit of 1,024 open files), and one Python core gains nothing from more; give at "
    "most 256",
)
KEYS = Limit(
    1,
    10_000_000,
    "mutate holds about 35 bytes a key (10,000,000: 370 MB; 100,000,000: 3.5 GB); "
    "give at most 10,000,000",
)
SHOWN = Limit(
    0, 1000, "each is kept in memory, and a screen holds no more; --report FILE has them all"
)
PAGE_ITEMS = Limit(1, 1_000_000, "a Scan page stops at 1 MB, which never holds more items")
MUTATE_WORKERS = Limit(1, 64, "64 writers already outrun one Python core; give at most 64")
HEAP_MB = Limit(64, 65_536, "give at most 64g", "DynamoDB Local needs 64m at least", unit="MB")

# --- the services' own ranges ------------------------------------------------------------
BATCH_DYNAMODB = Limit(1, 25, _BATCH.format(25, "dynamodb"))
BATCH_ALTERNATOR = Limit(1, 100, _BATCH.format(100, "alternator"))
ITEM_BYTES = Limit(1, 400 * 1024, "DynamoDB's items are at most 400 KB", unit="bytes")
CAPACITY_UNITS = Limit(1, 1_000_000_000, "no table serves more; leave it out for no limit")
THROUGHPUT_PERCENT = Limit(0.1, 1.5, "the Scylla Migrator takes 0.1 to 1.5", integer=False)
PORT = Limit(1, 65535, "a TCP port is at most 65535")
_LAG_ABOVE = "a stream keeps 24 hours of changes: a lag that large lost some"
STREAM_LAG = _seconds(86_400, _LAG_ABOVE, low_open=True)
STATUS_LAG = _seconds(86_400, _LAG_ABOVE)  # 0: ready only once drained
LOAD_ITEMS = Limit(1, INT, "the key space numbers keys in 31 bits; give fewer")
SEED = Limit(0, LONG, "a seed has at most 63 bits")
FAILURES = Limit(1, INT, "the Scylla Migrator reads it as an int")
TOLERANCE = Limit(0, 1e300, "give a finite tolerance", integer=False)
MIGRATOR_MILLIS = Limit(0, LONG, "the Scylla Migrator reads it as a long", unit="ms")
MIGRATOR_COUNT = Limit(0, INT, "the Scylla Migrator reads it as an int")

# --- waits and counts: a wait beyond the OS's clock fails (OverflowError) ------------------
REFRESH_MS = Limit(
    100,
    3_600_000,
    "a node list an hour old misses the nodes that joined or left; give at most 3600000",
    "asking the nodes more often than every 100 ms loads them for nothing",
    unit="ms",
)
CONNECT_MS = Limit(
    0,
    3_600_000,
    "a connect that takes an hour will not succeed; give at most 3600000, or 0 for no limit",
    unit="ms",
)
MAX_CONNECTIONS = Limit(
    1, INT, "the Scylla Migrator reads it as an int", "keep at least one connection per node"
)
DURATION = _seconds(30 * 86_400, "leave --duration out to run until Ctrl-C", low_open=True)
WINDOW = _seconds(3600, "give at most 3600 (a line an hour)", low_open=True)
PASS_INTERVAL = _seconds(86_400, "give at most 86400 (a day)")
RECHECK_DELAY = _seconds(3600, "give at most 3600 (an hour)")
OPERATIONS = Limit(1, 10**12, "leave --operations out to run until Ctrl-C")
PASSES = Limit(0, 1000, "a source still changing after 1,000 passes will not settle")
PUT_FRACTION = Limit(0, 1, "1 is every operation a put", integer=False)
