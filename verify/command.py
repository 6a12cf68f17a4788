"""`toolkit verify`: two-way item-by-item comparison (issue 6)."""

from __future__ import annotations

import click

from toolkit.errors import ToolkitError


@click.command(help="(not built yet: see issue 6)")
def verify() -> int:
    raise ToolkitError("`toolkit verify` is not built yet (issue 6)")
