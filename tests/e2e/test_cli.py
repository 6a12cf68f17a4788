"""The CLI's surface: help, version, exit codes, one-line errors."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli
from toolkit import __version__, cli


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


@pytest.mark.parametrize(
    ("raised", "line"),
    [
        (RuntimeError("boom\nsecond line"), "error: unexpected RuntimeError: boom second line ("),
        (PermissionError(13, "Permission denied", "/var/x.log"), "error: /var/x.log: Permission"),
        (sqlite3.OperationalError("database or disk is full"), "error: the run's state file"),
    ],
)
def test_an_error_from_outside_the_tree_is_still_one_line(
    raised: Exception,
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    def fail(path: Path) -> None:
        raise raised

    monkeypatch.setattr("toolkit.driver.migrate_command.load_config", fail)
    monkeypatch.delenv("TOOLKIT_TRACEBACK", raising=False)
    assert cli.run(["migrate", "--config", str(tmp_path / "c.yaml")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(line), lines
