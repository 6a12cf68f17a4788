"""Spark settings: --spark-conf pairs, and the one setting the toolkit refuses wherever
it is set (the flag, spark-submit's --conf, the cluster's defaults)."""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.errors import UserError


def spark_settings(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` pairs of --spark-conf, as spark-submit's --conf takes them."""
    settings = []
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise UserError(f"--spark-conf {pair!r}: give KEY=VALUE, e.g. spark.executor.cores=2")
        settings.append((key.strip(), value))
    for key, value in settings:
        refuse_speculation(key, value, f"--spark-conf {key}={value}")
    return settings


def refuse_speculation(key: str, value: str, where: str) -> None:
    """Speculative tasks run a second copy of a slow task at once: two copies of a
    shard's turn could land a key's changes out of order (an older value last)."""
    if key == "spark.speculation" and value.strip().lower() == "true":
        raise UserError(
            f"{where}: speculative tasks could write a key's changes out of order; "
            "the toolkit needs spark.speculation=false"
        )
