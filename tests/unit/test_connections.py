"""The region each side signs for: given, named by an AWS endpoint, or a default said once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.tables import section
from toolkit.config import parse_config
from toolkit.wire.connections import connect


@pytest.fixture(autouse=True)
def no_region_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))


def target(host: str, **extra: object) -> dict[str, object]:
    side = section("http://127.0.0.1:8000", "t_table")
    del side["region"]
    return {**side, "endpoint": {"host": host}, **extra}


@pytest.mark.parametrize(
    ("host", "extra", "region", "said"),
    [
        ("http://127.0.0.1:8001", {}, "us-east-1", True),
        ("http://127.0.0.1:8001", {"region": "ap-south-1"}, "ap-south-1", False),
        ("https://dynamodb.eu-west-2.amazonaws.com", {}, "eu-west-2", False),
        ("https://dynamodb-fips.us-gov-west-1.amazonaws.com", {}, "us-gov-west-1", False),
        ("https://dynamodb.cn-north-1.amazonaws.com.cn", {}, "cn-north-1", False),
        ("http://dynamodb.example.com:8000", {}, "us-east-1", True),
    ],
)
def test_the_signing_region(
    caplog: pytest.LogCaptureFixture, host: str, extra: dict[str, object], region: str, said: bool
) -> None:
    config = parse_config(
        {"source": section("http://127.0.0.1:8000", "t_table"), "target": target(host, **extra)}
    )
    caplog.set_level(logging.INFO, "migrator")
    assert connect("target", config.target).region == region
    notes = [m for m in caplog.messages if m.startswith("No region is set for the target")]
    assert len(notes) == (1 if said else 0)
    if said:
        assert f"signed for region {region}" in notes[0]
