"""Reading the config file: one-line errors for files, YAML syntax and typos."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_config import SECRET, write
from toolkit.config import load_config
from toolkit.config.reader import suggest
from toolkit.errors import UserError


def test_a_yaml_syntax_error_names_file_and_line_without_quoting_it(tmp_path: Path) -> None:
    path = write(tmp_path, f"source:\n  table: abc\n  credentials: {{secretKey: '{SECRET}\n")
    with pytest.raises(UserError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: YAML error at line ") and "\n" not in message
    assert SECRET not in message


def test_a_key_given_twice_is_a_yaml_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"line 3, column 3: the key 'table' appears twice"):
        load_config(write(tmp_path, "source:\n  table: abc\n  table: abd\n"))


def test_a_merge_key_may_be_overridden(tmp_path: Path) -> None:
    text = "source: &common {region: r1, table: abc}\ntarget: {<<: *common, region: r2}\n"
    config = load_config(write(tmp_path, text))
    assert config.source.region == "r1" and config.target.region == "r2"


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "no such file"), (b"\xff\xfe\x00", "cannot read it"), ("", "got nothing")],
)
def test_unreadable_files_are_one_line(
    tmp_path: Path, content: bytes | str | None, expected: str
) -> None:
    path = tmp_path / "config.yaml" if content is None else write(tmp_path, content)
    with pytest.raises(UserError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ") and expected in str(info.value)
    assert "\n" not in str(info.value)


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read it"):
        load_config(tmp_path)


def test_suggest_prefers_the_fewest_typing_errors() -> None:
    assert suggest("fo", ("from", "to")) == "to"
    assert suggest("scansegments", ("scanSegments", "maxMapTasks")) == "scanSegments"
    assert suggest("qqqq", ("from", "to")) is None
