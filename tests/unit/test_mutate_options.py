"""Where `toolkit mutate` writes: the config's source section, flags on top, or flags alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutator.options import endpoint_from_url, source_section, source_sections
from tests.tables import section, write_config
from toolkit.errors import UserError


def config(tmp_path: Path, name: str = "config.yaml") -> Path:
    return write_config(
        tmp_path / name,
        section("http://127.0.0.1:8000", "from_config", scanSegments=4),
        section("http://127.0.0.1:8001", "target_table"),
    )


def test_the_config_source_section_is_used(tmp_path: Path) -> None:
    source = source_section(config(tmp_path, "mine.yaml"), None, None, None)
    assert source.table == "from_config"
    assert source.endpoint is not None and source.endpoint.url == "http://127.0.0.1:8000"
    assert source.credentials.access_key == "test"


def test_flags_override_the_config(tmp_path: Path) -> None:
    source = source_section(config(tmp_path), "http://other:9000/", "other_table", "eu-west-1")
    assert (source.table, source.region) == ("other_table", "eu-west-1")
    assert source.endpoint is not None and source.endpoint.url == "http://other:9000"
    assert source.credentials.access_key == "test"


def test_config_yaml_here_is_the_default_only_without_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config(tmp_path)
    assert source_section(None, None, None, None).table == "from_config"
    alone = source_section(None, "http://localhost:8000", "flag_table", None)
    assert alone.table == "flag_table" and alone.region is None
    assert alone.credentials.access_key is None  # boto3's default chain


@pytest.mark.parametrize(
    "url",
    ["localhost:8000", "ftp://host", "http://", "http://host:99999", "http://host/path", "x y"],
)
def test_bad_endpoints_are_refused(url: str) -> None:
    with pytest.raises(UserError, match="not a server address"):
        endpoint_from_url(url)


@pytest.mark.parametrize(
    "url", ["http://localhost:8000", "https://dynamodb.eu-west-1.aws", "http://[::1]:8000/"]
)
def test_good_endpoints_are_kept(url: str) -> None:
    assert endpoint_from_url(url).url == url.rstrip("/")


def test_each_table_given_is_a_section_of_its_own_in_order(tmp_path: Path) -> None:
    sections = source_sections(config(tmp_path), None, ("b_table", "a_table", "c_table"), None)
    assert [s.table for s in sections] == ["b_table", "a_table", "c_table"]
    first = sections[0]
    for other in sections[1:]:  # the same but for the table: one connection serves all
        assert (other.endpoint, other.credentials, other.region) == (
            first.endpoint,
            first.credentials,
            first.region,
        )
    assert [s.table for s in source_sections(config(tmp_path), None, (), None)] == ["from_config"]


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (("abc", "def", "abc"), "--table abc is given twice"),
        (("abc", "a b"), "'a b' is not a table name"),
    ],
)
def test_a_bad_list_of_tables_is_refused(
    tmp_path: Path, tables: tuple[str, ...], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        source_sections(config(tmp_path), None, tables, None)
