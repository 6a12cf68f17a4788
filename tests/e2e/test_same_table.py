"""A table is never migrated onto itself, nor verified against itself: refused before any
table or file is touched, however the endpoint is spelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_s3_bad_input import an_export
from tests.e2e.test_s3_export import bucket, export_source
from tests.refusals import Case
from tests.tables import section, write_config
from toolkit.errors import UserError
from toolkit.logic.table_identity import refuse_same_table, same_table

ARN = "arn:aws:dynamodb:ddblocal:000000000000:table/orders"
CREATED = datetime(2026, 12, 1, 9, 41, 2, 424000, tzinfo=UTC)


def local(created: datetime = CREATED, arn: str = ARN) -> dict[str, object]:
    """As DynamoDB Local describes a table: no TableId, one ARN per name on every server."""
    return {"TableName": "orders", "TableArn": arn, "CreationDateTime": created}


def test_dynamodb_local_tables_are_told_apart_by_their_creation_time() -> None:
    assert same_table(local(), local())
    assert not same_table(local(), local(CREATED + timedelta(milliseconds=1)))
    assert not same_table(local(), local(arn=ARN.replace("orders", "orders2")))
    assert not same_table({"TableArn": ARN}, {"TableArn": ARN})  # no creation time: not known


def test_a_table_id_decides_where_both_have_one() -> None:
    one = {**local(), "TableId": "6f0c5a6e-1b1c-4a55-9a0e-0d5c8a1f0001"}
    assert same_table(one, dict(one))
    # Another account's table of the same name and moment is another table.
    assert not same_table(one, {**one, "TableId": "6f0c5a6e-1b1c-4a55-9a0e-0d5c8a1f0002"})


def test_the_refusal_names_both_sides_and_what_to_do() -> None:
    refuse_same_table(local(), None, ("source http://a", "target http://b"))  # no target table
    with pytest.raises(UserError) as refused:
        refuse_same_table(local(), local(), ("source http://a:8000", "target http://b:8000"))
    line = str(refused.value)
    assert "source http://a:8000" in line and "target http://b:8000" in line
    assert "point target.endpoint or target.table at another table" in line


@pytest.mark.parametrize("command", ["migrate", "verify"])
@pytest.mark.parametrize("spelling", ["127.0.0.1", "localhost"])
def test_a_target_that_is_the_source_table_is_refused(
    case: Case, command: str, spelling: str
) -> None:
    case.source_table()
    same = case.endpoints.source.replace("127.0.0.1", spelling)
    config = case.config(target=same)
    case.refused(command, config, "is the source table", "ARN and creation time")


def test_a_table_of_the_same_name_on_another_server_is_not_the_source(case: Case) -> None:
    case.source_table()
    config = case.config()
    result = case.run("migrate", config, "--stop-when-drained")
    assert result.returncode == 0, result.stderr


def test_an_export_loaded_onto_its_own_live_table_is_refused(case: Case, s3_endpoint: str) -> None:
    case.source_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    s3 = (s3_endpoint, bucket(s3_endpoint))
    source = export_source(s3[0], s3[1], an_export(s3), case.endpoints, case.table)
    target = section(case.endpoints.source, case.table, streamChanges=True)
    config = write_config(case.tmp / "config.yaml", source, target)
    case.refused("migrate", config, "is the source table")
