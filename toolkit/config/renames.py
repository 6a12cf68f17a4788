"""The `renames` list: attributes renamed in every copied item (also per table)."""

from __future__ import annotations

from toolkit.config.model import Rename
from toolkit.config.reader import Node


def read_renames(root: Node) -> tuple[Rename, ...]:
    renames: list[Rename] = []
    firsts: dict[tuple[str, str], int] = {}
    for i, item in enumerate(root.items("renames")):
        if not isinstance(item, dict):
            root.wrong(f"renames[{i}]", item, "a mapping with from and to")
        node = Node(root.origin, root.at(f"renames[{i}]"), item, root.notes)
        node.only(("from", "to"))
        names = {
            key: node.text(key) or node.fail(key, "is missing", "give both from and to")
            for key in ("from", "to")
        }
        for key, name in names.items():
            first = firsts.setdefault((key, name), i)
            if first != i:
                where = root.at(f"renames[{first}].{key}")
                node.fail(key, f"repeats {where} ({name!r})", "keep one of them")
        renames.append(Rename(names["from"], names["to"]))
    return tuple(renames)
