"""Whether an Alternator table the toolkit creates can have a stream: the tablets choice.

Facts (ScyllaDB's docs/alternator/new-apis.md "Tablets" and alternator/executor.cc):
from 2025.4 new Alternator tables follow ``tablets_mode_for_new_keyspaces`` (the
shipped scylla.yaml says ``enabled``); before, they use vnodes. Before 2026.2 a stream
cannot be enabled on a tablet table. The tag ``system:initial_tablets`` at CreateTable
chooses: a number means tablets, any other value (``none``) vnodes, refused when the
mode is ``enforced``; it has no effect later. 2025.1.4 to 2025.3 reserve every
``system:`` tag but the write isolation's, so they refuse this one; older ones keep it
as a plain tag. The way back (``source.type: alternator``) needs the table's stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.errors import UserError

TAG = "system:initial_tablets"
VNODES = "none"  # any non-number asks for vnodes
SETTINGS = ("auto", "always", "never")
MODES = ("disabled", "enabled", "enforced", "unset")
TABLETS_BY_DEFAULT_FROM = (2025, 4)  # new Alternator tables follow the mode from here
STREAMS_ON_TABLETS_FROM = (2026, 2)  # streams allowed on tablet tables from here
UPGRADE = "upgrade ScyllaDB to 2026.2, which allows streams on tablet tables"
_VERSION = re.compile(r"\s*(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class ServerFacts:
    """What an Alternator server said about itself; None where it could not be read."""

    version: str | None  # system.versions' text, e.g. 2026.1.0-0.20260115.abcdef
    tablets_mode: str | None  # tablets_mode_for_new_keyspaces

    @property
    def release(self) -> tuple[int, int, int] | None:
        return parse_version(self.version)

    @property
    def named(self) -> str:
        """The server as a log line names it."""
        release = self.release
        return f"ScyllaDB {'.'.join(map(str, release))}" if release else "this server"


@dataclass(frozen=True)
class TabletsChoice:
    """What to do at CreateTable, and the one line that says so."""

    tag: bool  # put TAG=VNODES on the CreateTable
    note: str  # said once in the log
    warning: bool  # the note is a warning (the way back may not work)


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """``2026.1.0-0.2026...`` or ``2026.4.0~dev-...`` as (2026, 1, 0); None if not a version."""
    found = _VERSION.match(text or "")
    if found is None:
        return None
    year, minor, patch = found.groups()
    return int(year), int(minor), int(patch or 0)


def parse_mode(value: str | None) -> str | None:
    """system.config's value is JSON (``"enabled"``, quotes included); None if not a mode."""
    mode = (value or "").strip().strip('"').strip()
    return mode if mode in MODES else None


def tablets_by_default(facts: ServerFacts) -> bool | None:
    """Whether a new Alternator table without the tag gets tablets; None: cannot tell."""
    release = facts.release
    if release is None:
        return None
    if release[:2] < TABLETS_BY_DEFAULT_FROM:
        return False
    if facts.tablets_mode is None:
        return None
    return facts.tablets_mode in ("enabled", "enforced")


def refuses_streams_on_tablets(facts: ServerFacts) -> bool | None:
    release = facts.release
    return None if release is None else release[:2] < STREAMS_ON_TABLETS_FROM


def refused_as_reserved(message: str) -> bool:
    """Whether a CreateTable was refused because the server reserves TAG (before 2025.4)."""
    return TAG in message and "reserved" in message


def stream_refused_for_tablets(message: str) -> bool:
    """Whether an UpdateTable enabling a stream was refused because the table uses tablets."""
    said = message.lower()
    return "stream" in said and "tablets" in said and "not yet supported" in said


def choose(setting: str, facts: ServerFacts, table: str) -> TabletsChoice:
    """The tag for a table the toolkit creates, from the ``tablets`` setting and the facts.

    Raises UserError when the tag is wanted and the server enforces tablets.
    """
    if setting == "always":
        return _keep_tablets(facts, table)
    release, by_default = facts.release, tablets_by_default(facts)
    if release is not None and release[:2] < TABLETS_BY_DEFAULT_FROM:
        # New tables get vnodes there; the tag is refused (2025.1.4 to 2025.3) or inert.
        return TabletsChoice(False, f"{facts.named} creates {table} with vnodes: {_NO_TAG}", False)
    if setting == "auto" and by_default is False:
        mode = f"tablets_mode_for_new_keyspaces: {facts.tablets_mode}"
        return TabletsChoice(
            False, f"{facts.named} ({mode}) creates {table} with vnodes: {_NO_TAG}", False
        )
    if setting == "auto" and refuses_streams_on_tablets(facts) is False:
        why = f"{facts.named} allows streams on tablet tables"
        return TabletsChoice(False, f"{table} keeps the server's choice of tablets: {why}", False)
    if facts.tablets_mode == "enforced":
        raise UserError(enforced_refusal(facts, table, setting))
    return TabletsChoice(True, _tag_note(setting, facts, table, by_default), False)


def enforced_refusal(facts: ServerFacts, table: str, setting: str) -> str:
    """The error when the tag is wanted but the server enforces tablets."""
    return (
        f"{facts.named} enforces tablets for new tables (tablets_mode_for_new_keyspaces: "
        f"enforced) and refuses the tag {TAG}={VNODES} that tablets: {setting} puts on target "
        f"table {table} so that it can have a stream (the way back); set tablets: always in the "
        f"target section to keep tablets, or {UPGRADE}"
    )


def refused_as_enforced(message: str) -> bool:
    """Whether a CreateTable with the tag was refused because the server enforces tablets."""
    return TAG in message and "enforced" in message


def existing_table_note(facts: ServerFacts, uses_tablets: bool | None, table: str) -> TabletsChoice:
    """What to say about an existing target table the toolkit may not have created."""
    fixed = (
        f"only a table created with the tag {TAG}={VNODES} uses vnodes, and that cannot be "
        "changed later"
    )
    if uses_tablets is None:
        return TabletsChoice(
            False,
            f"could not check whether target table {table} uses tablets (the server's system "
            "tables could not be read): if ScyllaDB 2025.4 or 2026.1 created it with tablets, "
            f"the way back (source.type: alternator) will be refused; {fixed}",
            True,
        )
    if not uses_tablets:
        return TabletsChoice(
            False, f"Target table {table} uses vnodes: it can have a stream", False
        )
    refuses = refuses_streams_on_tablets(facts)
    if refuses is False:
        why = f"{facts.named} allows streams on them"
        return TabletsChoice(False, f"Target table {table} uses tablets; {why}", False)
    server = f"{facts.named} refuses" if refuses else "ScyllaDB 2025.4 and 2026.1 refuse"
    return TabletsChoice(
        False,
        f"target table {table} uses tablets and {server} to enable a stream on a tablet table: "
        f"the way back (source.type: alternator) will not work with it; {fixed}: re-create it "
        f"with that tag (or let the toolkit create it) and copy it again, or {UPGRADE}",
        True,
    )


def way_back_refusal(table: str, where: str) -> str:
    """The one line for a way back whose source table cannot have a stream."""
    return (
        f"{where} refuses to enable a stream on table {table} because it uses tablets; a table "
        f"can have a stream on ScyllaDB 2025.4 and 2026.1 only if it was created with the tag "
        f"{TAG}={VNODES}, which cannot be changed later: re-create the table with that tag and "
        f"copy the data into it again, or {UPGRADE}"
    )


_NO_TAG = f"it can have a stream, no {TAG} tag needed"


def _keep_tablets(facts: ServerFacts, table: str) -> TabletsChoice:
    refuses = refuses_streams_on_tablets(facts)
    keep = f"tablets: always: {table} keeps the server's default"
    if refuses is False:
        return TabletsChoice(False, f"{keep}; {facts.named} allows streams on tablet tables", False)
    if refuses:
        server = f"{facts.named} is one of them"
    else:
        server = "this server's version could not be read"
    return TabletsChoice(
        False,
        f"{keep}: the way back (source.type: alternator) will not be possible if it gets "
        f"tablets on servers that refuse streams on tablet tables (2025.4 and 2026.1); {server}",
        True,
    )


def _tag_note(setting: str, facts: ServerFacts, table: str, by_default: bool | None) -> str:
    tagged = f"Target table {table} gets the tag {TAG}={VNODES} (vnodes, which can have a stream)"
    if setting == "never":
        return f"{tagged}, as tablets: never asks"
    if by_default is None:
        return (
            f"{tagged}: could not read whether {facts.named} gives new tables tablets, and "
            "2025.4 and 2026.1 refuse streams on them, which the way back (source.type: "
            "alternator) needs; set tablets: always to keep the server's choice"
        )
    return (
        f"{tagged}: {facts.named} gives new tables tablets (tablets_mode_for_new_keyspaces: "
        f"{facts.tablets_mode}) and refuses streams on them, which the way back (source.type: "
        "alternator) needs; set tablets: always to keep tablets"
    )
