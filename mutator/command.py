"""`toolkit mutate`: random puts and deletes on the source table (issue 5)."""

from __future__ import annotations

import click

from toolkit.errors import ToolkitError


@click.command(help="(not built yet: see issue 5)")
def mutate() -> None:
    raise ToolkitError("`toolkit mutate` is not built yet (issue 5)")
