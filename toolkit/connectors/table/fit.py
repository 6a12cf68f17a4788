"""Before any table is touched: what an Alternator target cannot hold of the source.

A global secondary index with a multi-attribute key is refused; what Alternator
ignores or lacks (toolkit/logic/alternator_fit.py) is said once, as notes. A DynamoDB
target keeps everything the toolkit copies, so nothing is asked or said for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from toolkit.config import MigrationConfig
from toolkit.logic.alternator_fit import Extras, notes, refuse_multi_attribute_keys
from toolkit.wire.connections import Connection
from toolkit.wire.table_extras import table_extras

log = logging.getLogger("migrator")


def check_source_fits(
    config: MigrationConfig, source: Connection, description: Mapping[str, Any]
) -> None:
    refuse_unfit(config, description)
    for note in fit_notes(config, source, description):
        log.warning("%s", note)


def refuse_unfit(config: MigrationConfig, description: Mapping[str, Any]) -> None:
    """UserError when the target cannot hold the source table (`toolkit plan` says it)."""
    if config.target.type == "alternator":
        refuse_multi_attribute_keys(description)


def fit_notes(
    config: MigrationConfig, source: Connection, description: Mapping[str, Any]
) -> list[str]:
    """One line for each thing of the source the target will not keep."""
    if config.target.type != "alternator":
        return []
    # An Alternator source has neither (the way back): nothing to ask.
    asked = config.source.type == "dynamodb"
    extras = table_extras(source.control(), description, source.where) if asked else Extras()
    return notes(description, extras)
