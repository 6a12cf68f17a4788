"""Reading a YAML file at the edge, with one-line errors that name keys by dotted path.

Generic over the schema: ``toolkit.config`` says which keys exist. This module
reads the file strictly (a key given twice is an error, where PyYAML would keep
the last silently), walks its mappings, checks value types and suggests the
nearest valid key for a typo. It never prints the value of a secret key.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import yaml

from toolkit.config.limits import Limit
from toolkit.errors import UserError

# Values under these keys never reach a message, not even in a type error.
SECRET_KEYS = frozenset({"accessKey", "secretKey"})
NO_EFFECT = "is accepted for compatibility with the Scylla Migrator but has no effect here"
_UNQUOTED = ("an integer", "a number", "true or false")


def show(value: object, secret: bool = False) -> str:
    """A value as a short one-line phrase, e.g. ``'8' (text)``; secrets show their type only."""
    kinds = {str: "text", bool: "a boolean", int: "an integer", float: "a number"}
    kind = kinds.get(type(value)) or f"a {type(value).__name__}".replace("a dict", "a mapping")
    if value is None:
        return "nothing"
    if secret or isinstance(value, list | dict):
        return f"{kind} (value hidden)" if secret else kind
    shown = repr(value) if isinstance(value, str) else str(value).lower()
    return f"{shown[:40]}{'...' if len(shown) > 40 else ''} ({kind})"


def _distance(a: str, b: str) -> int:
    """Levenshtein distance: difflib alone ranks 'fo' nearer 'from' than 'to'."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def suggest(key: str, valid: Collection[str]) -> str | None:
    """The valid key the user most likely meant, or None when nothing is close."""
    folded = {name.casefold(): name for name in valid}
    close = difflib.get_close_matches(key.casefold(), folded, n=len(folded), cutoff=0.5)
    if not close:
        return None
    return folded[min(close, key=lambda name: _distance(key.casefold(), name))]


@dataclass(frozen=True)
class Node:
    """One mapping of the file: its dotted path, the file's name and the shared notes."""

    origin: str
    path: str
    data: Mapping[object, object]
    notes: list[str]

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str, fix: str) -> NoReturn:
        raise UserError(f"{self.origin}: {self.at(key)} {problem}; {fix}")

    def wrong(self, key: str, value: object, expected: str, fix: str | None = None) -> NoReturn:
        if fix is None:
            quoted = isinstance(value, str) and expected.startswith(_UNQUOTED)
            fix = "write it without quotes" if quoted else "correct the value"
        self.fail(key, f"must be {expected}, got {show(value, key in SECRET_KEYS)}", fix)

    def note(self, key: str, why: str) -> None:
        self.notes.append(f"{self.at(key)} {NO_EFFECT}: {why}")

    def only(self, allowed: Collection[str]) -> None:
        """Refuse the first key not in ``allowed``, suggesting the nearest one."""
        for key in self.data:
            if not isinstance(key, str):
                where = f"under {self.path}" if self.path else "at the top level"
                raise UserError(f"{self.origin}: key {key!r} {where} is not a name; quote it")
            if key not in allowed:
                guess = suggest(key, allowed)
                fix = f"did you mean {guess}?" if guess else f"valid keys: {', '.join(allowed)}"
                raise UserError(f"{self.origin}: unknown key {self.at(key)}; {fix}")

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.wrong(key, value, "text")
        # An empty YAML value (`accessKey:`) or "" means the key is not set.
        return value if value.strip() else None

    def integer(self, key: str, limit: Limit) -> int | None:
        """An integer within ``limit``; beyond it, the refusal says what to do."""
        value = self.data.get(key)
        if value is None:
            return None
        # YAML's true is a bool, and a bool is an int to Python: never a count here.
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong(key, value, limit.expected)
        if not limit.holds(value):
            self.wrong(key, value, limit.expected, limit.fix(value))
        return value

    def number(self, key: str, limit: Limit) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(key, value, limit.expected)
        if not limit.holds(value):  # also refuses NaN
            self.wrong(key, value, limit.expected, limit.fix(value))
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.wrong(key, value, "true or false")
        return value

    def items(self, key: str) -> list[object]:
        value = self.data.get(key)
        if value is not None and not isinstance(value, list):
            self.wrong(key, value, "a list")
        return value or []

    def section(self, key: str) -> Node | None:
        """The mapping under ``key``, or None when it is absent or empty."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.wrong(key, value, "a mapping of keys")
        return Node(self.origin, self.at(key), value, self.notes)

    def needed(self, key: str, fix: str) -> Node:
        return self.section(key) or self.fail(key, "is missing", fix)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[object, object]:
    seen: set[str] = set()
    for key_node, _ in node.value:
        # A merge key (<<) may be overridden by design, so only literal keys count.
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
            if key_node.value in seen:
                problem = f"the key {key_node.value!r} appears twice in one mapping"
                raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
            seen.add(key_node.value)
    return dict(loader.construct_mapping(node, deep=True))


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _mapping)


def read_yaml(path: Path) -> object:
    """Parse one file; a missing, unreadable or malformed file is one UserError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; check the path given to --config") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        fix = "check that it is a readable UTF-8 text file"
        raise UserError(f"{path}: cannot read it ({reason}); {fix}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: builds plain data only
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        # The problem text only: PyYAML's full message quotes the line, which may hold a key.
        problem = " ".join(str(error.problem or error.context or "syntax error").split())
        fix = "fix the YAML there (indentation, quoting, duplicate keys)"
        raise UserError(f"{path}: YAML error{where}: {problem}; {fix}") from None
    except yaml.YAMLError as error:
        raise UserError(f"{path}: not valid YAML ({type(error).__name__}); fix the file") from None
