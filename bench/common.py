"""What the bench scripts share: servers, bench items, measured children, the table.

Not a bench itself. Every bench starts its own pair of DynamoDB Local servers on
free ports (`local_servers`), runs each contender as a child process whose wall
time, CPU time and peak RSS are measured (`run_measured`), and prints one table
whose ratios come from the same run (`print_table`).
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.helpers import CACHE_DIR, free_port  # noqa: E402
from tests.tables import create_table, load, low_client, section, write_config  # noqa: E402
from toolkit.local import servers  # noqa: E402

__all__ = [
    "REPO",
    "Measured",
    "Servers",
    "bench_items",
    "create_table",
    "load_table",
    "local_servers",
    "low_client",
    "machine",
    "print_table",
    "run_measured",
    "section",
    "toolkit_command",
    "write_config",
]

BODY = "x" * 180  # with the key, an item of about 200 bytes


@dataclass(frozen=True)
class Servers:
    source: str
    target: str
    work: Path  # a scratch folder, removed with the servers
    pids: tuple[int, int] = (0, 0)  # the source's and the target's server process

    def cpu_seconds(self) -> float:
        """CPU time (user + sys) both servers have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids:
            # The fields after the command's closing parenthesis: utime is the 12th.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total


@contextmanager
def local_servers(heap: str = "2g") -> Iterator[Servers]:
    """A fresh source and target DynamoDB Local (in memory) on free ports."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        work = Path(scratch)
        settings = servers.LocalSettings(work, CACHE_DIR, free_port(), free_port(), heap=heap)
        started, _ = servers.up(settings)
        try:
            pids = (started[0].pid, started[1].pid)
            yield Servers(started[0].endpoint, started[1].endpoint, work, pids)
        finally:
            servers.down(settings)


def bench_items(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """Items of about 200 bytes with keys item-00000000 onwards, in wire form."""
    for n in range(start, start + count):
        yield {"id": {"S": f"item-{n:08d}"}, "body": {"S": BODY}}


def load_table(endpoint: str, table: str, count: int, *, create: bool = True) -> int:
    """Create the table (id: S) unless told not to, and write `count` bench items."""
    if create:
        create_table(low_client(endpoint), table)
    return load(endpoint, table, bench_items(count), ["id"])


# A child's peak RSS counts the memory of the process it was forked from (Linux keeps
# the pre-exec high-water mark), so children are started from this small launcher,
# not from the bench, which may hold many items: it reports its child's usage.
LAUNCHER = """
import json, os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=sys.stdout, stderr=sys.stderr)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "rss_kb": usage.ru_maxrss,
                  "user": usage.ru_utime, "sys": usage.ru_stime}))
"""


@dataclass(frozen=True)
class Measured:
    seconds: float  # wall, from start to exit
    user: float  # CPU seconds of the child (and its waited-for children)
    sys: float
    rss_mb: float  # peak resident set
    stdout: str
    stderr: str
    marks: dict[str, float]  # pattern -> seconds from start to the first line matching it

    @property
    def cpu(self) -> float:
        return self.user + self.sys

    def since(self, pattern: str) -> float:
        """Wall seconds from the first line matching `pattern` to the exit."""
        return self.seconds - self.marks[pattern]


def run_measured(
    command: Sequence[str], cwd: Path | None = None, marks: Sequence[str] = ()
) -> Measured:
    """Run a child to its end and measure it; raise SystemExit when it fails.

    `marks`: regular expressions; the time each first matches a line of the child's
    output (stdout or stderr) is recorded, as it is printed.
    """
    patterns = {p: re.compile(p) for p in marks}
    seen: dict[str, float] = {}
    lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )

    def read(name: str, stream: IO[str]) -> None:
        for line in stream:
            now = time.monotonic() - started
            for pattern, regex in patterns.items():
                if pattern not in seen and regex.search(line):
                    seen[pattern] = now
            lines[name].append(line)

    readers = [
        threading.Thread(target=read, args=(name, stream), daemon=True)
        for name, stream in (("stdout", child.stdout), ("stderr", child.stderr))
    ]
    for reader in readers:
        reader.start()
    child.wait()
    for reader in readers:
        reader.join()
    seconds = time.monotonic() - started
    stdout, stderr = "".join(lines["stdout"]), "".join(lines["stderr"])
    *output, last = stdout.splitlines() or ["{}"]
    try:
        usage = json.loads(last)
    except json.JSONDecodeError:
        usage = {}
    if child.returncode != 0 or usage.get("exit") != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stdout}{stderr}")
    missing = patterns.keys() - seen.keys()
    if missing:
        raise SystemExit(f"{' '.join(command)} printed no line matching {sorted(missing)}")
    return Measured(
        seconds,
        usage["user"],
        usage["sys"],
        usage["rss_kb"] / 1024,  # ru_maxrss is in KB on Linux
        "\n".join(output),
        stderr,
        seen,
    )


def toolkit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "toolkit", *args]


def machine() -> dict[str, str]:
    """What the numbers ran on: cores, CPU, memory, load, versions."""
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
            break
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "memory": memory,
        "load (1/5/15 min)": load,
        "CPU probe": f"sum(range(10**7)) in {cpu_probe() * 1000:.0f} ms of CPU",
        "python": platform.python_version(),
    }


def cpu_probe() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast a core is now (contention too).

    About 0.1-0.15 s on an idle machine of this kind; more when other work shares its
    cores. CPU per item figures scale with it.
    """
    started = time.thread_time()
    sum(range(10**7))
    return time.thread_time() - started


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table (pastes into RESULTS.md as is), then the machine's facts."""
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}\n")
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    facts = machine()
    print("\n" + ", ".join(f"{k}: {v}" for k, v in facts.items()))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
