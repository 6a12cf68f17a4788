"""`toolkit plan`: what a migration will cost and whether it is safe, before it starts.

Per table and in total: items and size, the read budget (a run's explicit
readThroughput shared by its tables in proportion to their size), the snapshot's
shortest time and whether the stream keeps changes that long, the units it spends,
the stream's shards, and what the target will not keep or cannot hold. Nothing is
written anywhere. Exit 0 when the plan is sound, 1 when a table cannot be migrated
safely as configured, 2 on an error.
"""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from toolkit.config import load_config
from toolkit.driver.plan_facts import RULES, plan_facts
from toolkit.logic.plan import plan as plan_of
from toolkit.logic.plan_lines import as_json, lines

EXIT_SOUND, EXIT_UNSAFE = 0, 1


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("config.yaml"),
    show_default=True,
    help="The migration's YAML file: one table, or several under `tables`.",
)
@click.option("--json", "as_json_flag", is_flag=True, help="One JSON object instead of lines.")
@click.option(
    "--accept-existing-stream",
    is_flag=True,
    help="As `toolkit migrate` would be run: a stream the source already has is replayed.",
)
def plan(config_path: Path, as_json_flag: bool, accept_existing_stream: bool) -> int:
    """Read the source's tables and say, without writing anything, what the run will take.

    Exit 0 when every table can be migrated safely as configured, 1 when one cannot
    (a refusal, or a snapshot longer than the stream keeps changes).
    """
    config = load_config(config_path)
    facts, budgets = plan_facts(config, accept_existing_stream)
    verdict = plan_of(facts, budgets, RULES)
    if as_json_flag:
        click.echo(orjson.dumps(as_json(verdict)).decode())
    else:
        for line in lines(verdict, RULES):
            click.echo(line)
    return EXIT_SOUND if verdict.sound else EXIT_UNSAFE
