"""`toolkit local up | down | status`."""

from __future__ import annotations

import re
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from toolkit.config import limits
from toolkit.local import servers

_console = Console(stderr=False, highlight=False)
_SIZE = re.compile(r"([0-9]+)([kmg]?)", re.IGNORECASE)  # as java's -Xmx takes it
_MB = {"": 1 / 2**20, "k": 1 / 2**10, "m": 1, "g": 2**10}


def _heap(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A Java heap size (512m, 2g), within what DynamoDB Local can use."""
    size = _SIZE.fullmatch(value.strip())
    if size is None:
        raise click.BadParameter(f"must be a size like 512m or 2g, got {value!r}", ctx, param)
    megabytes = int(size.group(1)) * _MB[size.group(2).lower()]
    if not limits.HEAP_MB.holds(megabytes):
        raise click.BadParameter(limits.HEAP_MB.refusal(value, megabytes), ctx, param)
    return value.strip()


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path, resolve_path=True),
    default=Path(".toolkit"),
    show_default=True,
    envvar="TOOLKIT_HOME",
    help="Folder for the servers' PIDs and logs.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path, resolve_path=True),
    default=None,
    envvar="TOOLKIT_CACHE_DIR",
    help="Folder for the fetched DynamoDB Local [default: HOME/cache].",
)
@click.pass_context
def local(ctx: click.Context, home: Path, cache_dir: Path | None) -> None:
    """Run DynamoDB Local as a source and a target server on this machine."""
    ctx.obj = (home, cache_dir or home / "cache")


@local.command()
@click.option("--source-port", type=limits.PORT.flag(), default=8000, show_default=True)
@click.option("--target-port", type=limits.PORT.flag(), default=8001, show_default=True)
@click.option(
    "--heap", default="512m", show_default=True, callback=_heap, help="Java heap of each server."
)
@click.pass_obj
def up(obj: tuple[Path, Path], source_port: int, target_port: int, heap: str) -> None:
    """Fetch DynamoDB Local if needed and start both servers."""
    home, cache_dir = obj
    settings = servers.LocalSettings(home, cache_dir, source_port, target_port, heap)
    started, already = servers.up(settings)
    verb = "already running" if already else "started"
    for server in started:
        _console.print(f"{server.role} {verb} at {server.endpoint} (pid {server.pid})")


@local.command()
@click.pass_obj
def down(obj: tuple[Path, Path]) -> None:
    """Stop the servers that `up` started, and no other process."""
    home, cache_dir = obj
    stopped = servers.down(servers.LocalSettings(home, cache_dir))
    if not stopped:
        _console.print("no local servers were running")
    for server in stopped:
        _console.print(f"{server.role} stopped (pid {server.pid}, port {server.port})")


@local.command()
@click.pass_obj
def status(obj: tuple[Path, Path]) -> None:
    """Say which server runs where."""
    home, cache_dir = obj
    rows = servers.status(servers.LocalSettings(home, cache_dir))
    if not rows:
        _console.print("no local servers are recorded; start them with `toolkit local up`")
        return
    table = Table("server", "endpoint", "pid", "state")
    for row in rows:
        state = "answering" if row.answering else ("running" if row.alive else "stopped")
        table.add_row(row.server.role, row.server.endpoint, str(row.server.pid), state)
    _console.print(table)
