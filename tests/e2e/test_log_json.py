"""`--log-format json` holds from the first line: every line on stderr is one JSON object,
for mistakes in the flags and the config file too, not only for a run's own errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.helpers import run_cli
from tests.refusals import Case
from toolkit.cli import asked_log_format

COMMANDS = ("migrate", "verify", "mutate")
# (what the user wrote, a phrase of the one error line); the config file is config.yaml
MISTAKES = [
    (("--config", "nowhere.yaml"), "no such file"),
    (("--bogus-flag",), "No such option"),
    (("--metrics-port", "0"), "--metrics-port"),
    (("--config", "bad.yaml"), "YAML error"),
    (("--config", "unknown_key.yaml"), "did you mean streamChanges?"),
    (("--config", "not_a_mapping.yaml"), "the top level must be a mapping"),
]
FILES = {
    "bad.yaml": "source:\n  table: [unclosed\n",
    "unknown_key.yaml": (
        "source: {type: dynamodb, table: abc, region: us-east-1}\n"
        "target: {type: dynamodb, table: abc, region: us-east-1, streamChange: true}\n"
    ),
    "not_a_mapping.yaml": "- just a list\n",
}


def json_lines(stderr: str) -> list[dict[str, object]]:
    lines = [orjson.loads(line) for line in stderr.strip().splitlines()]
    for line in lines:
        assert isinstance(line, dict) and {"time", "level", "message"} <= set(line), stderr
    return lines


def test_an_unknown_shape_is_refused_in_text(tmp_path: Path) -> None:
    result = run_cli("migrate", "--log-format", "yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: Invalid value for '--log-format'")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("flags", "phrase"), MISTAKES)
def test_a_mistake_is_one_json_line(
    tmp_path: Path, command: str, flags: tuple[str, ...], phrase: str
) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    # The flag goes last, after the mistake: it still counts from the first line.
    result = run_cli(command, *flags, "--log-format", "json", cwd=tmp_path)
    lines = json_lines(result.stderr)
    assert [line["level"] for line in lines] == ["ERROR"], result.stderr
    assert phrase in str(lines[0]["message"])
    assert result.returncode == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(FILES)


def test_a_refusal_after_the_config_is_one_json_line(case: Case) -> None:
    config = case.config()  # the source table does not exist
    result = case.run("migrate", config, "--log-format=json")
    lines = json_lines(result.stderr)
    assert lines[-1]["level"] == "ERROR" and "does not exist" in str(lines[-1]["message"])
    assert result.returncode == 2


@pytest.mark.parametrize(
    ("argv", "shape"),
    [
        (["migrate", "--log-format", "json"], "json"),
        (["migrate", "--log-format=json", "--log-format", "text"], "text"),
        (["migrate", "--log-format"], "text"),
        (["migrate", "--", "--log-format", "json"], "text"),
        (["verify", "--log-format", "xml"], "text"),
    ],
)
def test_the_shape_asked_for_is_read_before_the_flags_are_parsed(
    argv: list[str], shape: str
) -> None:
    assert asked_log_format(argv) == shape
