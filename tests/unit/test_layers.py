"""Imports run down the layers only, never in a circle (the order: tests/import_graph.py)."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import Graph, circle_arrows, circles, read_graph, upward

ROOT = Path(__file__).resolve().parents[2]  # the repository


def _listed(arrows: list[tuple[str, str]]) -> str:
    return "\n".join(f"  {a} -> {b}" for a, b in arrows)


def test_the_whole_tree_is_read() -> None:
    files = set(read_graph(ROOT).lines)
    assert {"toolkit/driver/migrate.py", "verify/command.py", "mutator/run.py"} <= files


def test_no_import_runs_up_the_layers() -> None:
    up = upward(read_graph(ROOT))
    assert not up, f"imports up the layers or across folders of one layer:\n{_listed(up)}"


def test_no_files_import_each_other_in_a_circle() -> None:
    graph = read_graph(ROOT)
    arrows = [arrow for ring in circles(graph) for arrow in circle_arrows(graph, ring)]
    assert not arrows, f"files that import each other in a circle:\n{_listed(arrows)}"


def _tree(root: Path, files: dict[str, str]) -> Graph:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return read_graph(root)


def test_the_checker_finds_a_planted_upward_import_and_circle(tmp_path: Path) -> None:
    graph = _tree(
        tmp_path,
        {
            "toolkit/__init__.py": "",
            "toolkit/errors.py": "import toolkit.errors\n",  # itself: no arrow, no circle
            "toolkit/logic/__init__.py": "",
            # a circle through a relative import and a type-only import in a function
            "toolkit/logic/items.py": "from . import keys\n",
            "toolkit/logic/keys.py": (
                "from typing import TYPE_CHECKING\n"
                "def f():\n    if TYPE_CHECKING:\n        import toolkit.logic.items\n"
            ),
            "toolkit/wire/__init__.py": "import toolkit.errors\n",
            "toolkit/wire/pools.py": "from toolkit.driver import metrics\nimport os\n",
            "toolkit/driver/__init__.py": "",
            "toolkit/driver/metrics.py": "from toolkit.wire import pools\nfrom .. import errors\n",
            "toolkit/engines/spark.py": "from toolkit.connectors import Table\n",
            "toolkit/connectors/__init__.py": "Table = 1\n",
            "verify/__init__.py": "",
            "mutator/run.py": "import boto3\n",
        },
    )
    assert upward(graph) == [
        ("toolkit/engines/spark.py", "toolkit/connectors/__init__.py"),
        ("toolkit/wire/pools.py", "toolkit/driver/metrics.py"),
    ]
    assert circles(graph) == [
        ["toolkit/driver/metrics.py", "toolkit/wire/pools.py"],
        ["toolkit/logic/items.py", "toolkit/logic/keys.py"],
    ]
    assert ("toolkit/wire/__init__.py", "toolkit/errors.py") in graph.arrows
    assert ("toolkit/driver/metrics.py", "toolkit/errors.py") in graph.arrows
    assert len(graph.arrows) == 7  # boto3 and os are outside the tree
