"""What an Alternator target keeps of a source table's description.

Facts from ScyllaDB's docs/alternator/compatibility.md: Alternator has no
multi-attribute (composite) GSI keys, so such an index cannot be made and the run is
refused; it ignores an index's Projection (every index holds all attributes) and lacks
TableClass, WarmThroughput, on-demand throughput limits, DeletionProtectionEnabled,
MultiRegionConsistency, resource policies (permissions are CQL grants), contributor
insights and the global-table API (a table is replicated to the datacenters the
cluster has when it is created). Those become notes, said once before any table is
touched. Takes DescribeTable's shape (plain dicts); imports no boto3.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.errors import UserError

Description = Mapping[str, Any]
INSIGHTS_ON = ("ENABLED", "ENABLING")  # DescribeContributorInsights' statuses that mean "on"


@dataclass(frozen=True)
class Extras:
    """What DescribeTable does not say, asked for separately; None: not known."""

    resource_policy: bool | None = None
    contributor_insights: str | None = None  # ContributorInsightsStatus


def refuse_multi_attribute_keys(description: Description) -> None:
    """Refuse a source with a GSI of several HASH or several RANGE attributes."""
    found = [
        f"{index['IndexName']} ({_roles(index['KeySchema'])})"
        for index in description.get("GlobalSecondaryIndexes") or ()
        if _multi_attribute(index["KeySchema"])
    ]
    if found:
        raise UserError(
            f"source table {description['TableName']} has global secondary "
            f"{'index' if len(found) == 1 else 'indexes'} {', '.join(found)} with a "
            "multi-attribute key, which Alternator does not support; give each index one "
            "HASH and at most one RANGE attribute (e.g. one attribute that joins the parts) "
            "or delete it on the source, then run again"
        )


def notes(description: Description, extras: Extras = Extras()) -> list[str]:
    """One line for each thing of the source that the Alternator target will not keep."""
    table = description["TableName"]
    return [f"source table {table}: {note}" for note in _notes(description, extras)]


def is_global_table(description: Description) -> bool:
    """A DynamoDB global table (version 2019.11.21): its description lists its replicas."""
    return bool(description.get("Replicas"))


def regions(description: Description) -> list[str]:
    return [str(r.get("RegionName", "?")) for r in description.get("Replicas") or ()]


def _notes(description: Description, extras: Extras) -> Iterator[str]:
    partial = _partial_projections(description)
    if partial:
        one = len(partial) == 1
        yield (
            f"{'index' if one else 'indexes'} {', '.join(partial)} "
            f"{'projects' if one else 'project'} only some attributes; Alternator ignores "
            "Projection: every index holds all attributes (more disk space)"
        )
    table_class = (description.get("TableClassSummary") or {}).get("TableClass")
    if table_class and table_class != "STANDARD":
        yield f"TableClass {table_class}; Alternator stores every table the same way"
    warm = _warmed(description.get("WarmThroughput"))
    if warm:
        yield f"WarmThroughput ({warm}); Alternator has no warm throughput"
    capped = _on_demand_limits(description)
    if capped:
        yield (
            f"on-demand throughput limits ({'; '.join(capped)}); Alternator caps no "
            "table's throughput"
        )
    if description.get("DeletionProtectionEnabled"):
        yield "DeletionProtectionEnabled; Alternator has no deletion protection"
    if description.get("MultiRegionConsistency") == "STRONG":
        yield "MultiRegionConsistency STRONG; Alternator has no such option"
    if is_global_table(description):
        yield (
            f"a global table (replicas in {', '.join(regions(description))}); Alternator has "
            "no global-table API: a table is replicated to the datacenters the cluster has "
            "when it is created (ALTER KEYSPACE in CQL for a datacenter added later)"
        )
    if extras.resource_policy:
        yield "a resource policy; Alternator does not keep it: grant access with CQL GRANT"
    if extras.contributor_insights in INSIGHTS_ON:
        yield (
            "contributor insights; Alternator has none (ScyllaDB's own monitoring shows "
            "the most accessed items)"
        )


def _multi_attribute(schema: list[Mapping[str, str]]) -> bool:
    roles = [k["KeyType"] for k in schema]
    return roles.count("HASH") > 1 or roles.count("RANGE") > 1


def _roles(schema: list[Mapping[str, str]]) -> str:
    return ", ".join(f"{k['AttributeName']} {k['KeyType']}" for k in schema)


def _partial_projections(description: Description) -> list[str]:
    indexes = [
        *(description.get("GlobalSecondaryIndexes") or ()),
        *(description.get("LocalSecondaryIndexes") or ()),
    ]
    return [
        f"{index['IndexName']} ({kind})"
        for index in indexes
        if (kind := (index.get("Projection") or {}).get("ProjectionType", "ALL")) != "ALL"
    ]


def _on_demand_limits(description: Description) -> list[str]:
    """The table's and its indexes' on-demand maximums, where one is set (above 0)."""
    owners = [("the table", description)] + [
        (f"index {index['IndexName']}", index)
        for index in description.get("GlobalSecondaryIndexes") or ()
    ]
    found = []
    for who, owner in owners:
        units = _units(
            owner.get("OnDemandThroughput"), "MaxReadRequestUnits", "MaxWriteRequestUnits"
        )
        if units:
            found.append(f"{who}: {units}")
    return found


# DynamoDB reports a warm throughput for every table; a new on-demand table starts at
# these (the developer guide's "warm throughput scenarios"). Only more is worth a note:
# a table pre-warmed, or grown past them, that the user may count on.
NEW_TABLE_WARM = {"ReadUnitsPerSecond": 12_000, "WriteUnitsPerSecond": 4_000}


def _warmed(section: Mapping[str, Any] | None) -> str:
    above = {
        key: value
        for key, value in (section or {}).items()
        if key in NEW_TABLE_WARM and int(value) > NEW_TABLE_WARM[key]
    }
    return _units(above, "ReadUnitsPerSecond", "WriteUnitsPerSecond")


def _units(section: Mapping[str, Any] | None, read: str, write: str) -> str:
    """The read and write units above 0 (-1 and 0 mean none), as "N reads/s, M writes/s"."""
    shown = [
        f"{int(value)} {what}/s"
        for key, what in ((read, "reads"), (write, "writes"))
        if (value := (section or {}).get(key)) is not None and int(value) > 0
    ]
    return ", ".join(shown)
