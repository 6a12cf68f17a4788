"""What an Alternator target keeps of a source's description, a global table's stream,
and an on-demand source's read cap: the rules, without servers."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.config import SourceConfig
from toolkit.config.access import Credentials
from toolkit.driver.estimate import read_budget
from toolkit.errors import UserError
from toolkit.logic.alternator_fit import Extras, is_global_table, notes, refuse_multi_attribute_keys
from toolkit.logic.sizing import on_demand_read_cap
from toolkit.wire.stream_setup import Followed, plan_stream

ARN = "arn:aws:dynamodb:eu-west-1:1:table/orders/stream/2026-01-01T00:00:00.000"
REPLICAS = [{"RegionName": "eu-west-1"}, {"RegionName": "us-east-1"}]


def described(**extra: Any) -> dict[str, Any]:
    return {
        "TableName": "orders",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        **extra,
    }


def index(name: str, roles: list[str], projection: str = "ALL") -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": f"a{n}", "KeyType": r} for n, r in enumerate(roles)],
        "Projection": {"ProjectionType": projection},
    }


# --- multi-attribute index keys -------------------------------------------------------

key_roles = st.lists(st.sampled_from(["HASH", "RANGE"]), min_size=1, max_size=8)


@given(st.lists(key_roles, min_size=1, max_size=4))
def test_an_index_is_refused_exactly_when_a_role_has_several_attributes(
    schemas: list[list[str]],
) -> None:
    indexes = [index(f"gsi{n}", roles) for n, roles in enumerate(schemas)]
    several = [
        f"gsi{n}"
        for n, roles in enumerate(schemas)
        if roles.count("HASH") > 1 or roles.count("RANGE") > 1
    ]
    if not several:
        refuse_multi_attribute_keys(described(GlobalSecondaryIndexes=indexes))
        return
    with pytest.raises(UserError) as refused:
        refuse_multi_attribute_keys(described(GlobalSecondaryIndexes=indexes))
    line = str(refused.value)
    assert "\n" not in line and "multi-attribute key" in line and "run again" in line
    assert all(f"{name} (" in line for name in several)


def test_the_refusal_names_the_index_and_its_key_attributes() -> None:
    source = described(GlobalSecondaryIndexes=[index("by_customer", ["HASH", "HASH", "RANGE"])])
    with pytest.raises(UserError, match=r"by_customer \(a0 HASH, a1 HASH, a2 RANGE\)"):
        refuse_multi_attribute_keys(source)


# --- notes ------------------------------------------------------------------------------


def test_a_plain_table_needs_no_note() -> None:
    plain = described(
        GlobalSecondaryIndexes=[index("g1", ["HASH", "RANGE"])],
        LocalSecondaryIndexes=[index("l1", ["HASH", "RANGE"])],
        TableClassSummary={"TableClass": "STANDARD"},
        OnDemandThroughput={"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": -1},
        DeletionProtectionEnabled=False,
        MultiRegionConsistency="EVENTUAL",
    )
    assert notes(plain, Extras(resource_policy=False, contributor_insights="DISABLED")) == []


@pytest.mark.parametrize(
    ("extra", "extras", "said"),
    [
        (
            {"GlobalSecondaryIndexes": [index("g1", ["HASH"], "KEYS_ONLY")]},
            Extras(),
            "g1 (KEYS_ONLY)",
        ),
        (
            {"LocalSecondaryIndexes": [index("l1", ["HASH", "RANGE"], "INCLUDE")]},
            Extras(),
            "every index holds all attributes",
        ),
        ({"TableClassSummary": {"TableClass": "STANDARD_INFREQUENT_ACCESS"}}, Extras(), "Class"),
        (
            {"WarmThroughput": {"ReadUnitsPerSecond": 13000, "WriteUnitsPerSecond": 0}},
            Extras(),
            "WarmThroughput (13000 reads/s)",
        ),
        (
            {"OnDemandThroughput": {"MaxReadRequestUnits": 400, "MaxWriteRequestUnits": -1}},
            Extras(),
            "the table: 400 reads/s",
        ),
        (
            {
                "GlobalSecondaryIndexes": [
                    {**index("g1", ["HASH"]), "OnDemandThroughput": {"MaxWriteRequestUnits": 9}}
                ]
            },
            Extras(),
            "index g1: 9 writes/s",
        ),
        ({"DeletionProtectionEnabled": True}, Extras(), "DeletionProtectionEnabled"),
        ({"MultiRegionConsistency": "STRONG"}, Extras(), "MultiRegionConsistency"),
        ({"Replicas": REPLICAS}, Extras(), "replicas in eu-west-1, us-east-1"),
        ({}, Extras(resource_policy=True), "resource policy"),
        ({}, Extras(contributor_insights="ENABLED"), "contributor insights"),
    ],
)
def test_each_thing_alternator_does_not_keep_is_one_note(
    extra: dict[str, Any], extras: Extras, said: str
) -> None:
    found = notes(described(**extra), extras)
    assert len(found) == 1, found
    assert found[0].startswith("source table orders: ") and said in found[0]


def test_a_new_tables_warm_throughput_is_no_note() -> None:
    """Every DynamoDB table reports one: only above a new table's start is it chosen."""
    start = {"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000}
    assert notes(described(WarmThroughput=start), Extras()) == []
    warmer = {**start, "WriteUnitsPerSecond": 4001}
    assert notes(described(WarmThroughput=warmer), Extras()) == [
        "source table orders: WarmThroughput (4001 writes/s); Alternator has no warm throughput"
    ]


def test_everything_at_once_is_a_note_each() -> None:
    full = described(
        GlobalSecondaryIndexes=[index("g1", ["HASH"], "KEYS_ONLY")],
        TableClassSummary={"TableClass": "STANDARD_INFREQUENT_ACCESS"},
        WarmThroughput={"ReadUnitsPerSecond": 12001, "WriteUnitsPerSecond": 1},
        OnDemandThroughput={"MaxReadRequestUnits": 1},
        DeletionProtectionEnabled=True,
        MultiRegionConsistency="STRONG",
        Replicas=REPLICAS,
    )
    assert len(notes(full, Extras(True, "ENABLING"))) == 9


# --- a global table's stream --------------------------------------------------------------


def streaming(**extra: Any) -> dict[str, Any]:
    spec = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    return described(StreamSpecification=spec, LatestStreamArn=ARN, **extra)


def test_a_global_tables_stream_is_used_and_explained(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert is_global_table(streaming(Replicas=REPLICAS))
    state_file = str(tmp_path / "state.sqlite")
    with caplog.at_level(logging.INFO, "migrator"):
        plan = plan_stream(
            streaming(Replicas=REPLICAS), Followed(None, state_file), accept_existing=False
        )
    assert plan.arn == ARN and not plan.resumed
    said = caplog.text
    assert "global table (replicas in eu-west-1, us-east-1)" in said
    assert "24 hours" in said and "resumed within" in said
    caplog.clear()
    with caplog.at_level(logging.INFO, "migrator"):
        again = plan_stream(
            streaming(Replicas=REPLICAS), Followed(ARN, state_file), accept_existing=False
        )
    assert again.resumed and "Resuming on the stream of the global table" in caplog.text


def test_a_table_without_replicas_still_needs_the_stream_accepted() -> None:
    assert not is_global_table(streaming(Replicas=[]))
    with pytest.raises(UserError, match="--accept-existing-stream"):
        plan_stream(streaming(Replicas=[]), Followed(None, "state"), accept_existing=False)


def test_a_global_table_without_a_stream_gets_one_enabled() -> None:
    # A multi-Region strong consistency global table needs no stream.
    plan = plan_stream(described(Replicas=REPLICAS), Followed(None, "state"), accept_existing=False)
    assert plan.arn is None


# --- an on-demand source's read cap ---------------------------------------------------------


def source(read_throughput: int | None = None, percent: float | None = None) -> SourceConfig:
    return SourceConfig(
        *("dynamodb", "orders", "us-east-1", None, Credentials(None, None, None, None), None),
        *(read_throughput, percent, None, None),
    )


def on_demand(cap: int) -> dict[str, Any]:
    return described(
        ProvisionedThroughput={"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        OnDemandThroughput={"MaxReadRequestUnits": cap, "MaxWriteRequestUnits": -1},
    )


caps = st.integers(min_value=1, max_value=10**9)
percents = st.none() | st.floats(min_value=0.1, max_value=1.5)


@given(caps, percents)
def test_the_default_read_budget_stays_within_the_on_demand_maximum(
    cap: int, percent: float | None
) -> None:
    budget = read_budget(source(None, percent), on_demand(cap))
    assert budget is not None and 0 < budget <= cap
    assert budget == pytest.approx(min(cap, cap * (0.5 if percent is None else percent)))


@given(caps, st.integers(min_value=1, max_value=10**9), percents)
def test_an_explicit_read_throughput_is_kept(cap: int, units: int, percent: float | None) -> None:
    budget = read_budget(source(units, percent), on_demand(cap))
    assert budget == pytest.approx(units * (0.5 if percent is None else percent))


def test_an_explicit_read_throughput_above_the_maximum_is_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, "migrator"):
        read_budget(source(100, 1.0), on_demand(100))
    assert "above the on-demand maximum" not in caplog.text
    with caplog.at_level(logging.INFO, "migrator"):
        read_budget(source(1000), on_demand(100))
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "above the on-demand maximum of table orders" in warned[0].message


@pytest.mark.parametrize("units", [None, -1, 0])
def test_no_maximum_leaves_an_on_demand_read_budget_unlimited(units: int | None) -> None:
    description = described(OnDemandThroughput={"MaxReadRequestUnits": units})
    assert on_demand_read_cap(description) is None
    assert read_budget(source(), description) is None


def test_a_provisioned_table_keeps_its_capacity_as_the_default() -> None:
    description = on_demand(50)
    description["ProvisionedThroughput"] = {"ReadCapacityUnits": 400, "WriteCapacityUnits": 5}
    assert read_budget(source(), description) == 200
