"""The CLI's --engine, --master and --spark-conf, turned into an engine (and closed after)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from toolkit.config import limits
from toolkit.engines.base import Engine
from toolkit.engines.embedded import EmbeddedEngine
from toolkit.engines.spark_settings import spark_settings
from toolkit.errors import UserError

ENGINES = ("embedded", "spark")
F = TypeVar("F", bound=Callable[..., Any])
# Spark's master URLs (Spark 4 dropped Mesos): checked here, before a JVM starts, since
# Spark's own refusal of a bad one is a Java stack trace on stderr.
_MASTER = re.compile(
    r"local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?|local-cluster\[[1-9]\d*,[1-9]\d*,[1-9]\d*\]"
    r"|spark://[^\s/]+(:\d+)?(,[^\s/]+(:\d+)?)*|yarn|k8s://\S+"
)
# The task slots a local master asks for: local[N] or local[N,F], local-cluster[N,C,M] (N x C).
_LOCAL_SLOTS = re.compile(
    r"local\[([0-9]+)(?:,[0-9]+)?\]|local-cluster\[([0-9]+),([0-9]+),[0-9]+\]"
)
MASTERS = (
    "local, local[N], local[*], local[N,F], local-cluster[N,C,M], spark://HOST:PORT, "
    "yarn or k8s://URL"
)


def check_master(master: str) -> str:
    """The master URL as given, if Spark takes its form; else one line saying which do."""
    if not _MASTER.fullmatch(master):
        raise UserError(f"--master {master}: not a Spark master URL; Spark takes {MASTERS}")
    local = _LOCAL_SLOTS.fullmatch(master)
    if local is not None:
        threads, workers, cores = local.groups()
        slots = int(threads) if threads else int(workers) * int(cores)
        if not limits.MAP_TASKS.holds(slots):
            refusal = limits.MAP_TASKS.refusal(f"{slots:,}", slots)
            raise UserError(f"--master {master}: its task slots {refusal}")
    return master


def engine_options(command: F) -> F:
    """--engine, --master and --spark-conf, the same on migrate and verify."""
    options = [
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="embedded",
            show_default=True,
            help="What runs the scan segments: threads of this process, or Spark tasks.",
        ),
        click.option(
            "--master",
            metavar="URL",
            help="Spark's master (spark://host:7077, local[4], yarn ...) [default: "
            "spark-submit's, else local[*]].",
        ),
        click.option(
            "--spark-conf",
            multiple=True,
            metavar="KEY=VALUE",
            help="A Spark setting, as spark-submit's --conf (repeatable).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@contextmanager
def engine_for(name: str, master: str | None, conf: Sequence[str]) -> Iterator[Engine]:
    """The engine to run units on; Spark's driver starts here and stops at the end."""
    if name != "spark":
        if master or conf:
            flag = "--master" if master else "--spark-conf"
            raise UserError(f"{flag} is for the Spark engine: add --engine spark")
        yield EmbeddedEngine()
        return
    settings = spark_settings(conf)
    if master is not None:
        check_master(master)
    from toolkit.engines.spark import start_spark  # PySpark only when asked for

    engine = start_spark(master, settings)
    try:
        yield engine
    finally:
        engine.close()
