"""The `toolkit` command line: the only layer that reads argv and the environment.

Every error below this layer is a ``ToolkitError``; it is printed here as one
line on stderr and ends the process with exit code 2. Exit codes: 0 ok,
1 differences found (verify), 2 error, 130 interrupted.
"""

from __future__ import annotations

import gc
import importlib
import os
import sqlite3
import sys
from collections.abc import Sequence

import click

from toolkit import __version__
from toolkit.driver import log_format, stopping
from toolkit.errors import ToolkitError

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
TRACEBACK_VARIABLE = "TOOLKIT_TRACEBACK"  # set: an unexpected error shows its traceback
GC_NEW_OBJECTS = 20_000  # the cycle collector's first threshold (CPython's default: 700)


# Each command is imported only when it runs: `toolkit migrate` need not load
# verify's deepdiff (and numpy) or the mutator, about 0.5 s of CPU at every start.
COMMANDS = {
    "local": "toolkit.local.commands",
    "migrate": "toolkit.driver.migrate_command",
    "mutate": "mutator.command",
    "plan": "toolkit.driver.plan_command",
    "status": "toolkit.driver.status_command",
    "verify": "verify.command",
}


class Commands(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
def cli() -> None:
    """Move a live DynamoDB table into ScyllaDB Alternator, and prove nothing was lost."""


def main(argv: list[str] | None = None) -> None:
    stopping.install()  # first: a signal is honoured from the first moment
    # Pages of items become many short-lived, acyclic dicts: at the default threshold
    # (700 new objects) the cycle collector ran dozens of times per 1 MB page, about
    # 4 us of CPU per copied item (bench/RESULTS.md). Cycles are rare here; run it less.
    gc.set_threshold(GC_NEW_OBJECTS, 10, 10)
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; errors become one line on stderr."""
    log_format.configure(asked_log_format(sys.argv[1:] if argv is None else argv))
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
    except OSError as error:  # a file or device the run needed (a log, the disk full)
        where = f"{error.filename}: " if error.filename else ""
        _say_error(f"{where}{error.strerror or error}; check the path, its permissions and space")
        return EXIT_ERROR
    except sqlite3.Error as error:  # the state file failed under a running migration
        _say_error(f"the run's state file failed ({error}); check its folder's space and rights")
        return EXIT_ERROR
    except Exception as error:  # a path not translated into the error tree: still one line
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        _say_error(
            f"unexpected {type(error).__name__}: {error} (a bug in the toolkit: please report it "
            f"with the command that ran; {TRACEBACK_VARIABLE}=1 shows where it happened)"
        )
        return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


def asked_log_format(argv: Sequence[str]) -> str:
    """The --log-format given anywhere on the command line, read before click parses it:
    the log's shape holds from the first line, for errors in the flags and the config too."""
    shape = "text"
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--log-format" and index + 1 < len(argv):
            shape = argv[index + 1]
        elif arg.startswith("--log-format="):
            shape = arg.partition("=")[2]
    return shape if shape in log_format.FORMATS else "text"


def _say_error(message: str) -> None:
    # One line, whatever the message holds: a server's page may carry newlines.
    click.echo(log_format.error_line(" ".join(message.split())), err=True)
