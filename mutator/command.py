"""`toolkit mutate`: random puts and deletes on the source table(s), or a bulk load.

The only layer of the mutator that reads flags; Ctrl-C and SIGTERM end a run
cleanly (a second one interrupts at once).
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

import click

from mutator.app import Common, run_load, run_mutate
from mutator.bodies import SizeBounds
from mutator.load import LoadSettings
from mutator.mix import DEFAULT_PUT_FRACTION
from mutator.options import source_sections
from mutator.rate import RateRange
from mutator.run import MutateSettings
from toolkit.config import limits
from toolkit.driver import observability
from toolkit.driver.stopping import graceful
from toolkit.errors import UserError

DEFAULT_RATE = "10-25"
EXIT_INTERRUPTED = 130


def _rate_range(ctx: click.Context, param: click.Parameter, value: str | None) -> RateRange | None:
    if value is None:
        return None
    try:
        return RateRange.parse(value)
    except ValueError as error:
        raise click.BadParameter(f"{value!r}: {error}", ctx, param) from None


@click.command()
@click.option(
    "--keys",
    type=limits.KEYS.flag(),
    default=10_000,
    show_default=True,
    help="Size of the key space: keys 0..N-1, each always the same key values.",
)
@click.option(
    "--rate",
    "rates",
    default=None,
    callback=_rate_range,
    metavar="LOW-HIGH",
    help=f"Operations a second, LOW-HIGH; each second draws its rate uniformly "
    f"from the range [default: {DEFAULT_RATE}].",
)
@click.option(
    "--put-fraction",
    type=limits.PUT_FRACTION.flag(),
    default=None,
    help="Fraction of operations that are puts; deletes remove live keys. The live "
    "share settles at (2p-1)/p [default: 0.75, about two thirds of the keys live].",
)
@click.option(
    "--duration",
    type=limits.DURATION.flag(),
    default=None,
    help="Stop after this many seconds [default: run until Ctrl-C].",
)
@click.option(
    "--operations",
    type=limits.OPERATIONS.flag(),
    default=None,
    help="Stop after this many operations [default: run until Ctrl-C].",
)
@click.option(
    "--seed",
    type=limits.SEED.flag(),
    default=None,
    help="Random seed: the same seed gives the same operations [default: random, printed].",
)
@click.option(
    "--min-item-bytes",
    type=limits.ITEM_BYTES.flag(),
    default=40,
    show_default=True,
    help="Smallest item, in DynamoDB's item size.",
)
@click.option(
    "--max-item-bytes",
    type=limits.ITEM_BYTES.flag(),
    default=32 * 1024,
    show_default=True,
    help="Largest item, in DynamoDB's item size.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append every acknowledged operation to FILE as a JSON line.",
)
@click.option(
    "--load",
    "load_items",
    type=limits.LOAD_ITEMS.flag(),
    default=None,
    help="Bulk mode: write keys 0..N-1 as fast as the server takes them, then exit.",
)
@click.option(
    "--workers",
    type=limits.MUTATE_WORKERS.flag(),
    default=8,
    show_default=True,
    help="Parallel writers (operations on one key stay in order).",
)
@click.option(
    "--window",
    type=limits.WINDOW.flag(),
    default=10.0,
    show_default=True,
    help="Seconds per progress line and rate window.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML file whose source section names the table "
    "[default: ./config.yaml, unless --endpoint, --table or --region is given].",
)
@click.option("--endpoint", default=None, help="Server URL, e.g. http://localhost:8000.")
@click.option(
    "--table",
    "tables",
    multiple=True,
    help="Table name (overrides the config's); give it again for more tables: "
    "the rate is the total, each operation goes to a table drawn at random.",
)
@click.option("--region", default=None, help="AWS region (overrides the config's).")
@click.option(
    "--create-table",
    is_flag=True,
    help="Create the table when missing: id (S) hash key, version (N) range key, "
    "on demand, as the reference post's migration_test.",
)
@observability.options
def mutate(
    keys: int,
    rates: RateRange | None,
    put_fraction: float | None,
    duration: float | None,
    operations: int | None,
    seed: int | None,
    min_item_bytes: int,
    max_item_bytes: int,
    log_path: Path | None,
    load_items: int | None,
    workers: int,
    window: float,
    config_path: Path | None,
    endpoint: str | None,
    tables: tuple[str, ...],
    region: str | None,
    create_table: bool,
    log_format: str,
    metrics_port: int | None,
    metrics_per_shard: bool,
    metrics_address: str,
) -> int:
    """Random puts and deletes on the source table, at 10-25 a second by default.

    Keys come from a fixed space of --keys keys (each table its own, with several
    --table); a progress line every --window seconds shows the achieved rate, and
    Ctrl-C ends the run with a summary.

    \b
    Examples:
      toolkit mutate --keys 10000            # the table of ./config.yaml's source
      toolkit mutate --endpoint http://localhost:8000 --table migration_test \\
          --create-table --duration 60 --log ops.jsonl
      toolkit mutate --config config.yaml --load 100000   # bulk: keys 0..99999
      toolkit mutate --config config.yaml --table orders --table users --rate 30-40
    """
    if min_item_bytes > max_item_bytes:
        raise UserError(
            f"--min-item-bytes {min_item_bytes} is above --max-item-bytes {max_item_bytes}"
        )
    if load_items is not None:
        mutate_only = {"--rate": rates, "--put-fraction": put_fraction, "--duration": duration}
        mutate_only["--operations"] = operations
        given = [name for name, value in mutate_only.items() if value is not None]
        if given:
            raise UserError(f"--load writes its items and exits; drop {', '.join(given)}")
    sections = source_sections(config_path, endpoint, tables, region)
    # Not the config's metricsPort: that is the migration's, which may run beside the load.
    metrics = observability.start(log_format, metrics_port, metrics_address, metrics_per_shard)
    bounds = SizeBounds(min_item_bytes, max_item_bytes)
    common = Common(sections, create_table, bounds, log_path, metrics)
    chosen_seed = secrets.randbelow(2**31) if seed is None else seed
    stop = threading.Event()
    with graceful(stop):
        if load_items is not None:
            settings = LoadSettings(sections[0].table, load_items, chosen_seed, workers, window)
            result = run_load(common, settings, click.echo, stop)
            return 0 if result.complete else EXIT_INTERRUPTED
        mutation = MutateSettings(
            rates=rates or RateRange.parse(DEFAULT_RATE),
            put_fraction=DEFAULT_PUT_FRACTION if put_fraction is None else put_fraction,
            seed=chosen_seed,
            duration=duration,
            operations=operations,
            workers=workers,
            window=window,
        )
        run_mutate(common, mutation, keys, click.echo, stop)
        return 0
