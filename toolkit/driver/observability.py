"""The options every long-running command shares: the log's shape and the metrics port.

`migrate`, `verify` and `mutate` take ``--log-format text|json`` and
``--metrics-port PORT`` (or ``metricsPort`` in the config file; the flag wins).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from toolkit.config import limits
from toolkit.driver import log_format
from toolkit.driver.metrics import Metrics
from toolkit.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])


def options(command: F) -> F:
    for option in reversed(
        (
            click.option(
                "--log-format",
                type=click.Choice(log_format.FORMATS),
                default="text",
                show_default=True,
                help="Log lines as the Migrator's text, or as one JSON object each.",
            ),
            click.option(
                "--metrics-port",
                type=limits.PORT.flag(),
                default=None,
                help="Serve Prometheus metrics on this port, at /metrics [default: metricsPort].",
            ),
            click.option(
                "--metrics-per-shard",
                is_flag=True,
                help="Also a lag gauge per stream shard (a big stream has thousands).",
            ),
            click.option(
                "--metrics-address",
                default="0.0.0.0",
                show_default=True,
                help="The address the metrics are served on.",
            ),
        )
    ):
        command = option(command)
    return command


def start(
    log_shape: str, port: int | None, address: str, per_shard: bool = False
) -> Metrics | None:
    """Set the log's shape; serve the metrics when a port is given."""
    if log_shape != "text":
        log_format.configure(log_shape)
    if port is None:
        return None
    metrics = Metrics(per_shard=per_shard)
    try:
        metrics.serve(port, address)
    except OSError as error:
        raise UserError(
            f"cannot serve metrics on {address}:{port} ({error.strerror or error}); "
            "give another --metrics-port, or free that one"
        ) from None
    return metrics
