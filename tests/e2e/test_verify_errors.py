"""`toolkit verify`'s settings and failures through the real CLI: flags, files, exit 2.

Every failure is exit code 2 and exactly one error line on stderr (after the log's
own lines, if any), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.conftest import Endpoints
from tests.helpers import error_line, free_port, run_cli
from tests.tables import create_table, load, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEYS_FROM_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def one_error_line(result: Any) -> str:
    return error_line(result)


def test_missing_tables_are_one_line(
    endpoints: Endpoints, source_client: DynamoDBClient, table_name: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(endpoints.target, table_name),
    )
    line = one_error_line(run_cli("verify", "--config", str(config)))
    assert f"source table {table_name} does not exist" in line

    create_table(source_client, table_name)
    line = one_error_line(run_cli("verify", "--config", str(config)))
    assert f"target table {table_name} does not exist" in line and "target.table" in line


def test_tables_whose_keys_differ_are_one_line(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
) -> None:
    create_table(source_client, table_name, keys=(("id", "S"),))
    create_table(target_client, table_name, keys=(("id", "N"),))
    flags = ("--source-endpoint", endpoints.source, "--target-endpoint", endpoints.target)
    tables = ("--source-table", table_name, "--target-table", table_name)

    result = run_cli("verify", *flags, *tables, env=KEYS_FROM_ENV)

    assert "has key schema [id (N, HASH)]" in one_error_line(result)
    for side, endpoint in (("source", endpoints.source), ("target", endpoints.target)):
        note = f"No region is set for the {side} (region in its config section): requests to "
        assert result.stderr.count(f"{note}{endpoint} are signed for region us-east-1") == 1


def test_an_endpoint_that_does_not_answer_is_one_line(endpoints: Endpoints) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    result = run_cli(
        "verify",
        *("--source-endpoint", nobody, "--source-table", "some_table"),
        *("--target-endpoint", endpoints.target, "--target-table", "some_table"),
        env=KEYS_FROM_ENV,
    )
    line = one_error_line(result)
    assert f"cannot reach source {nobody}" in line


def test_without_config_or_flags_is_one_line(tmp_path: Path) -> None:
    line = one_error_line(run_cli("verify", cwd=tmp_path))
    assert "no config.yaml here" in line and "--source-table" in line
    line = one_error_line(run_cli("verify", "--workers", "0", cwd=tmp_path))
    assert "--workers" in line


def test_flags_override_the_default_config_file(
    endpoints: Endpoints,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    table_name: str,
    tmp_path: Path,
) -> None:
    for client in (source_client, target_client):
        create_table(client, table_name)
    items = [{"id": {"S": f"k{n}"}, "v": {"N": str(n)}} for n in range(50)]
    for endpoint in (endpoints.source, endpoints.target):
        load(endpoint, table_name, items, ["id"])
    unused = f"http://127.0.0.1:{free_port()}"
    write_config(  # ./config.yaml, read when --config is not given
        tmp_path / "config.yaml",
        section(endpoints.source, table_name),
        section(unused, "wrong_table"),
    )

    result = run_cli(
        "verify",
        *("--target-endpoint", endpoints.target, "--target-table", table_name),
        "--both-directions",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{table_name} → {table_name}" in result.stdout
    assert "IDENTICAL (both directions)" in result.stdout
