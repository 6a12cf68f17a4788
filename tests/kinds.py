"""The kind of a test is its folder, and a unit test may ask for no server.

tests/unit needs nothing but Python, tests/servers needs local servers, tests/e2e
runs the real CLI. conftest.py marks each test with its folder's kind, so that
`pytest -m unit` runs exactly tests/unit, and stops a unit test that asks for a
server before the server starts: the marks stay true as tests are added.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

KINDS = ("unit", "servers", "e2e")

# conftest.py's fixtures that start the session's servers or reach them.
SERVER_FIXTURES = frozenset(
    {"endpoints", "source_client", "target_client", "table_name", "case", "s3_endpoint"}
)


def kind_of(path: Path, tests: Path) -> str | None:
    """The kind of the test file at ``path``: its first folder under ``tests``, if a kind."""
    try:
        first = path.relative_to(tests).parts[0]
    except ValueError:  # not under tests/ (the notebooks)
        return None
    return first if first in KINDS else None


def mark_kinds(items: Iterable[pytest.Item], tests: Path) -> None:
    for item in items:
        kind = kind_of(item.path, tests)
        if kind:
            item.add_marker(kind)


def refuse_servers_in_unit(item: pytest.Item) -> None:
    """Fails a unit test that asks for a server fixture, itself or through its fixtures."""
    if item.get_closest_marker("unit") is None:
        return
    asked = sorted(SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    if asked:
        pytest.fail(
            f"{item.nodeid} is a unit test but asks for {', '.join(asked)}, which need servers:"
            " move it to tests/servers (or tests/e2e if it runs the CLI)",
            pytrace=False,
        )
