"""The folders' marks are true: a unit test that asks for a server is stopped before it starts.

pytest runs in this process on a folder of its own, with tests/conftest.py as its
conftest and pyproject.toml's markers (strict), so the real hooks are what is tested.
The test files there override the server fixtures with ones that fail if reached: no
server starts here, and a guard that let a unit test through would show.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

REACHED = """
import pytest


@pytest.fixture
def source_client():
    pytest.fail("a server fixture was set up")


@pytest.fixture
def endpoints():
    pytest.fail("a server fixture was set up")
"""

UNIT = (
    REACHED
    + """

@pytest.fixture
def loaded(source_client):
    return source_client


def test_asks_for_a_server(endpoints):
    pass


def test_asks_through_its_fixture(loaded):
    pass


def test_asks_for_nothing(tmp_path):
    assert tmp_path.is_dir()
"""
)

UNIT_TESTS = ["test_asks_for_a_server", "test_asks_through_its_fixture", "test_asks_for_nothing"]

SERVERS = """
import pytest


@pytest.fixture
def endpoints():
    return "a server"


def test_may_ask_for_a_server(endpoints):
    assert endpoints == "a server"
"""


@pytest.fixture
def folders(pytester: pytest.Pytester) -> pytest.Pytester:
    """unit/, servers/ and a test at the root, under the real conftest and markers."""
    options = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["tool"]["pytest"]
    markers = "".join(f"\n    {line}" for line in options["ini_options"]["markers"])
    pytester.makeini(f"[pytest]\nmarkers ={markers}\n")
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    for folder, text in (("unit", UNIT), ("servers", SERVERS)):
        pytester.mkpydir(folder)
        (pytester.path / folder / f"test_{folder}_kind.py").write_text(text)
    pytester.makepyfile(test_at_the_root="def test_no_folder():\n    pass\n")
    return pytester


def test_a_unit_test_that_asks_for_a_server_fails_at_setup_with_what_to_do(
    folders: pytest.Pytester,
) -> None:
    result = folders.runpytest_inprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*unit/test_unit_kind.py::test_asks_for_a_server is a unit test but asks for"
            " endpoints, which need servers: move it to tests/servers*",
            "*test_asks_through_its_fixture is a unit test but asks for"
            " source_client, which need servers*",
        ]
    )
    result.stdout.no_fnmatch_line("*a server fixture was set up*")


@pytest.mark.parametrize(
    ("kind", "selected"),
    [
        ("unit", UNIT_TESTS),
        ("servers", ["test_may_ask_for_a_server"]),
        ("e2e", []),
    ],
)
def test_a_mark_selects_exactly_its_folder(
    folders: pytest.Pytester, kind: str, selected: list[str]
) -> None:
    result = folders.runpytest_inprocess("--strict-markers", "--collect-only", "-q", "-m", kind)
    ids = [line for line in result.outlines if "::" in line]
    assert ids == [f"{kind}/test_{kind}_kind.py::{name}" for name in selected]
