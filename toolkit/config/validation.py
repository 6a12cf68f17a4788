"""The Migrator's ``validation`` section, as `toolkit verify` reads it.

Three keys take effect on a DynamoDB comparison, as they do in the Migrator's
Alternator validator: ``failuresToFetch`` (stop after that many differences),
``floatingPointTolerance`` (numbers that close are equal) and ``copyMissingRows``
(write the items missing in the target, and only those). The others apply to
Cassandra, ScyllaDB CQL or MySQL sources and are notes here.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.config import limits
from toolkit.config.reader import Node

_INERT = {
    "compareTimestamps": "DynamoDB items carry no WRITETIME or TTL metadata to compare",
    "ttlToleranceMillis": "DynamoDB items carry no TTL metadata to compare",
    "writetimeToleranceMillis": "DynamoDB items carry no WRITETIME to compare",
    "timestampMsTolerance": "DynamoDB has no timestamp type",
    "hashColumns": "it applies to MySQL sources only",
    "repairWritetimeStrategy": "it sets CQL write timestamps, which DynamoDB writes do not have",
    "numericTypePolicy": "DynamoDB has a single number type, compared by value",
}
_CHOICES = {
    "repairWritetimeStrategy": ("source", "coordinator", "config"),
    "numericTypePolicy": ("Lenient", "DetectWiden", "StrictType"),
}


@dataclass(frozen=True)
class ValidationConfig:
    failures_to_fetch: int | None = None  # stop a comparison after this many differences
    floating_point_tolerance: float = 0.0  # numbers at most this far apart are equal
    copy_missing_rows: bool = False  # verify writes the items missing in the target


def read_validation(node: Node | None) -> ValidationConfig:
    if node is None:
        return ValidationConfig()
    node.only(("failuresToFetch", "floatingPointTolerance", "copyMissingRows", *_INERT))
    for key, choices in _CHOICES.items():
        value = node.text(key)
        if value is not None and value.lower() not in {c.lower() for c in choices}:
            node.wrong(key, value, " or ".join(choices))
    for key in ("ttlToleranceMillis", "writetimeToleranceMillis", "timestampMsTolerance"):
        node.integer(key, limits.MIGRATOR_MILLIS)
    node.flag("compareTimestamps", False)
    node.items("hashColumns")
    for key, why in _INERT.items():
        if node.data.get(key) not in (None, [], False, 0):
            node.note(key, why)
    return ValidationConfig(
        failures_to_fetch=node.integer("failuresToFetch", limits.FAILURES),
        floating_point_tolerance=node.number("floatingPointTolerance", limits.TOLERANCE) or 0.0,
        copy_missing_rows=node.flag("copyMissingRows", False),
    )
