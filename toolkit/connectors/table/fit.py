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
    if config.target.type != "alternator":
        return
    refuse_multi_attribute_keys(description)
    # An Alternator source has neither (the way back): nothing to ask.
    asked = config.source.type == "dynamodb"
    extras = table_extras(source.control(), description, source.where) if asked else Extras()
    for note in notes(description, extras):
        log.warning("%s", note)
