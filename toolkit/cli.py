"""The `toolkit` command line: the only layer that reads argv and the environment.

Every error below this layer is a ``ToolkitError``; it is printed here as one
line on stderr and ends the process with exit code 2. Exit codes: 0 ok,
1 differences found (verify), 2 error, 130 interrupted.
"""

from __future__ import annotations

import logging
import sys

import click

from mutator.command import mutate
from toolkit import __version__
from toolkit.errors import ToolkitError
from toolkit.local.commands import local
from toolkit.migrate_command import migrate
from verify.command import verify

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
def cli() -> None:
    """Move a live DynamoDB table into ScyllaDB Alternator, and prove nothing was lost."""


cli.add_command(local)
cli.add_command(migrate)
cli.add_command(mutate)
cli.add_command(verify)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%y/%m/%d %H:%M:%S",
    )
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one line on stderr."""
    try:
        result = cli.main(args=argv, prog_name="toolkit", standalone_mode=False)
    except click.ClickException as error:
        _say_error(f"{error.format_message()} (see `toolkit --help`)")
        return EXIT_ERROR
    except ToolkitError as error:
        _say_error(str(error))
        return EXIT_ERROR
    except (KeyboardInterrupt, click.Abort):
        _say_error("interrupted")
        return EXIT_INTERRUPTED
    return result if isinstance(result, int) else EXIT_OK


def _say_error(message: str) -> None:
    click.echo(f"error: {message}", err=True)
