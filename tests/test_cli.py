"""The CLI's surface: help, version, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import run_cli
from toolkit import __version__


def test_help_lists_every_subcommand() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for name in ("migrate", "mutate", "verify", "local"):
        assert f"  {name}" in result.stdout


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_unknown_subcommand_is_one_line_and_exit_2() -> None:
    result = run_cli("migrat")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "migrat" in lines[0]


def test_bad_option_value_is_one_line_and_exit_2() -> None:
    result = run_cli("local", "up", "--source-port", "seventy")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "seventy" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_help_lists_up_down_status() -> None:
    result = run_cli("local", "--help")
    assert result.returncode == 0
    for name in ("up", "down", "status"):
        assert f"  {name}" in result.stdout


def test_a_command_loads_only_its_own_modules() -> None:
    probe = (
        "import sys\n"
        "from toolkit import cli\n"
        "cli.run(['migrate', '--help'])\n"
        "others = ('deepdiff', 'mutator.app', 'verify.session')\n"
        "print(sorted(m for m in others if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
