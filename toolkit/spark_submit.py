"""spark-submit's entry: the same `toolkit` command, on the Spark engine.

    spark-submit --master spark://host:7077 \\
        "$(python -m toolkit.spark_submit --path)" migrate --config config.yaml

runs `toolkit migrate --engine spark --config config.yaml` as the driver, with
spark-submit's master and settings. `--path` prints this file's path.
"""

from __future__ import annotations

import sys
from pathlib import Path

from toolkit.cli import main


def on_spark(argv: list[str]) -> list[str]:
    """The command's arguments with --engine spark, unless an engine is named."""
    if not argv or any(arg == "--engine" or arg.startswith("--engine=") for arg in argv):
        return argv
    return [argv[0], "--engine", "spark", *argv[1:]]


if __name__ == "__main__":
    if sys.argv[1:] == ["--path"]:
        print(Path(__file__).resolve())
    else:
        main(on_spark(sys.argv[1:]))
