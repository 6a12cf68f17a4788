"""The import graph of toolkit/, verify/ and mutator/, ranked by the layers.

Every import counts: at the top, inside a function, under TYPE_CHECKING, relative
ones too (a type-only import still ties two files together). Each is resolved to a
file of the tree; imports of anything else (the standard library, boto3) are left
out. A file may import only files of a lower layer or of its own folder, and no
files may import each other in a circle.

    python -m tests.import_graph [--root PATH]

prints the figures: files, lines, import arrows, upward imports, circles, lines
per folder.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TREES = ("toolkit", "verify", "mutator")

# Lowest first. Folders of one rank never import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("toolkit/__init__.py", "toolkit/errors.py"),
    ("toolkit/logic",),
    ("toolkit/config",),
    ("toolkit/wire", "toolkit/local"),
    ("toolkit/engines", "toolkit/connectors"),
    ("toolkit/work",),
    ("toolkit/driver",),
    ("verify", "mutator"),
    ("toolkit/cli.py",),
    ("toolkit/__main__.py", "toolkit/spark_submit.py"),
)

Arrow = tuple[str, str]


@dataclass(frozen=True)
class Graph:
    lines: dict[str, int]  # each file (path relative to the root) and its lines
    arrows: frozenset[Arrow]  # (importer, imported), never a file to itself


def read_graph(root: Path) -> Graph:
    files = sorted(p for tree in TREES for p in (root / tree).rglob("*.py"))
    lines = {_name(root, p): len(p.read_text().splitlines()) for p in files}
    arrows = {
        (_name(root, path), _name(root, target))
        for path in files
        for target in _imported(root, path)
        if target != path
    }
    return Graph(lines, frozenset(arrows))


def folder_of(name: str) -> tuple[int, str]:
    """A file's rank and its folder (the layer entry that holds it)."""
    for rank, folders in enumerate(LAYERS):
        for folder in folders:
            if name == folder or name.startswith(folder + "/"):
                return rank, folder
    raise ValueError(f"{name} is in no layer: add its folder to LAYERS")


def upward(graph: Graph) -> list[Arrow]:
    """Imports of a higher layer, or of another folder of the same layer."""
    return sorted(arrow for arrow in graph.arrows if _runs_up(*arrow))


def _runs_up(importer: str, imported: str) -> bool:
    (rank, folder), (their_rank, their_folder) = folder_of(importer), folder_of(imported)
    return their_rank > rank or (their_rank == rank and their_folder != folder)


def circles(graph: Graph) -> list[list[str]]:
    """Files that import each other, directly or not (Tarjan's components > 1)."""
    after: dict[str, list[str]] = {name: [] for name in graph.lines}
    for a, b in graph.arrows:
        after[a].append(b)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        order[name] = low[name] = len(order)
        stack.append(name)
        for nxt in after[name]:
            if nxt not in order:
                visit(nxt)
                low[name] = min(low[name], low[nxt])
            elif nxt in stack:
                low[name] = min(low[name], order[nxt])
        if low[name] == order[name]:
            component = [stack.pop()]
            while component[-1] != name:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(graph.lines):
        if name not in order:
            visit(name)
    return sorted(found)


def circle_arrows(graph: Graph, circle: list[str]) -> list[Arrow]:
    members = set(circle)
    return sorted((a, b) for a, b in graph.arrows if a in members and b in members)


def _name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _imported(root: Path, path: Path) -> Iterator[Path]:
    package = path.relative_to(root).parent.parts
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [_module_file(root, alias.name.split(".")) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1] if node.level else ())
            module = base + (node.module.split(".") if node.module else [])
            # `from pkg import mod` imports pkg/mod.py; `from pkg import name`, pkg itself
            targets = [
                _module_file(root, [*module, alias.name]) or _module_file(root, module)
                for alias in node.names
            ]
        else:
            continue
        yield from (target for target in targets if target is not None)


def _module_file(root: Path, parts: list[str]) -> Path | None:
    if not parts or parts[0] not in TREES:
        return None
    path = root.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _report(graph: Graph) -> str:
    up, rings = upward(graph), circles(graph)
    out = [
        f"files {len(graph.lines)}",
        f"lines {sum(graph.lines.values())}",
        f"import arrows {len(graph.arrows)}",
        f"upward imports {len(up)}",
        *(f"  {a} -> {b}" for a, b in up),
        f"circles {len(rings)}",
        *(f"  {' <-> '.join(ring)}" for ring in rings),
        "lines per folder",
    ]
    per_folder: dict[str, int] = {}
    for name, count in graph.lines.items():
        folder = folder_of(name)[1]
        per_folder[folder] = per_folder.get(folder, 0) + count
    out += [f"  {folder} {count}" for folder, count in sorted(per_folder.items())]
    return "\n".join(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    print(_report(read_graph(parser.parse_args().root)))
