"""Where verify's endpoints and tables come from: the config file, flags on top."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tables import section, write_config
from toolkit.errors import UserError
from verify.settings import Flags, SideFlags, load_verify_config

SOURCE = "http://127.0.0.1:8000"


def test_flags_override_the_file_and_keep_the_rest(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "migration.yaml",
        section(SOURCE, "source_table", scanSegments=4),
        {"type": "alternator", "table": "old", "endpoint": {"host": "http://old", "port": 8000}},
        renames=[{"from": "a", "to": "b"}],
    )
    flags = Flags(target=SideFlags("http://scylla:8000", "new_table"), region="eu-west-1")

    config = load_verify_config(path, flags)

    assert config.target.table == "new_table"
    assert config.target.endpoint is not None
    assert config.target.endpoint.url == "http://scylla:8000"
    assert config.source.region == config.target.region == "eu-west-1"
    assert config.source.table == "source_table" and config.source.scan_segments == 4
    assert config.source.credentials.access_key == "test"
    assert [(r.source_name, r.target_name) for r in config.renames] == [("a", "b")]
    assert config.path == path


def test_flags_alone_name_both_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml here
    flags = Flags(SideFlags(SOURCE, "from_table"), SideFlags("http://scylla:8000", "to_table"))

    config = load_verify_config(None, flags)

    assert (config.source.table, config.target.table) == ("from_table", "to_table")
    # no region given: left for connect(), which names one for the endpoint and says so
    assert config.source.region is None and config.target.region is None
    assert config.path is None

    with pytest.raises(UserError, match=r"no config\.yaml here"):
        load_verify_config(None, Flags(source=SideFlags(SOURCE, "from_table")))


def test_a_bad_flag_or_file_is_one_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        load_verify_config(tmp_path / "absent.yaml", Flags())
    path = write_config(tmp_path / "c.yaml", section(SOURCE, "ok_table"), section(SOURCE, "ok_too"))
    with pytest.raises(UserError, match=r"target\.table"):
        load_verify_config(path, Flags(target=SideFlags(table="x")))  # too short a name
