"""An export target that cannot be written is refused before the source is read and before
the state file is made: one line, nothing left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_s3_export import bucket
from tests.fakes.s3_server import s3_section
from tests.refusals import Case
from tests.tables import section, write_config


def export_config(case: Case, target: dict[str, object]) -> Path:
    source = section(case.endpoints.source, case.table)
    return write_config(case.tmp / "config.yaml", source, {"type": "dynamodb-s3-export", **target})


@pytest.mark.parametrize("inside", [False, True])
def test_an_export_path_that_is_a_file(case: Case, inside: bool) -> None:
    case.source_table()
    file = case.tmp / "backup"
    file.write_text("not a folder")
    path = file / "orders" if inside else file
    line = case.refused("migrate", export_config(case, {"path": str(path)}), "is a file")
    assert str(file) in line and "give a folder's path" in line


def test_an_export_bucket_that_does_not_exist(case: Case, s3_endpoint: str) -> None:
    case.source_table()
    bucket(s3_endpoint)  # the server has buckets, not this one
    target = {"path": "s3://no-such-bucket-23/orders", **s3_section(s3_endpoint)}
    case.refused("migrate", export_config(case, target), "NoSuchBucket", "no-such-bucket-23")
