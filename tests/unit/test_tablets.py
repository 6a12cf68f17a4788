"""The tablets choice for a table the toolkit creates on Alternator (toolkit/logic/tablets.py).

The versions and messages are ScyllaDB's (alternator/executor.cc in its repository):
2025.4 gives new Alternator tables tablets by tablets_mode_for_new_keyspaces, streams
on them are refused before 2026.2, and 2025.1.4 to 2025.3 reserve the tag.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.errors import UserError
from toolkit.logic import tablets
from toolkit.logic.tablets import ServerFacts, choose

RELEASES = st.tuples(
    st.sampled_from([5, 6, 2024, 2025, 2026, 2027]), st.integers(0, 5), st.integers(0, 12)
)
SUFFIXES = st.sampled_from(["", "-0.20260115.0a1b2c3d4e5f", "~dev-0.20260821.f4a4091ca28e"])


@st.composite
def facts(draw: st.DrawFn) -> ServerFacts:
    release = draw(st.none() | RELEASES)
    version = None if release is None else ".".join(map(str, release)) + draw(SUFFIXES)
    return ServerFacts(version, draw(st.none() | st.sampled_from(tablets.MODES)))


def decided(setting: str, server: ServerFacts) -> tablets.TabletsChoice | None:
    try:
        return choose(setting, server, "t")
    except UserError:
        return None


@given(RELEASES, SUFFIXES)
def test_a_version_is_read_from_the_servers_text(release: tuple[int, int, int], end: str) -> None:
    assert tablets.parse_version(".".join(map(str, release)) + end) == release


@pytest.mark.parametrize("text", [None, "", "unknown", "v2026.1"])
def test_what_is_not_a_version_is_unknown(text: str | None) -> None:
    assert tablets.parse_version(text) is None
    assert ServerFacts(text, "enabled").named == "this server"


@given(st.sampled_from(tablets.MODES))
def test_the_mode_is_read_from_its_json_text(mode: str) -> None:
    assert tablets.parse_mode(f'"{mode}"') == mode


@given(st.text().filter(lambda t: t.strip().strip('"').strip() not in tablets.MODES))
def test_any_other_mode_text_is_unknown(text: str) -> None:
    assert tablets.parse_mode(text) is None


@given(facts())
def test_auto_leaves_no_table_that_may_be_refused_a_stream(server: ServerFacts) -> None:
    choice = decided("auto", server)
    if choice is None:  # refused: the server enforces tablets and refuses their streams
        assert server.tablets_mode == "enforced"
        assert tablets.refuses_streams_on_tablets(server) is not False
        return
    can_stream = (
        tablets.tablets_by_default(server) is False
        or tablets.refuses_streams_on_tablets(server) is False
    )
    assert choice.tag != can_stream


@given(facts())
def test_always_keeps_the_servers_tablets_and_warns_unless_streams_work(
    server: ServerFacts,
) -> None:
    choice = choose("always", server, "t")
    assert not choice.tag
    assert choice.warning == (tablets.refuses_streams_on_tablets(server) is not False)


@given(facts())
def test_never_tags_wherever_the_server_takes_the_tag(server: ServerFacts) -> None:
    old = server.release is not None and server.release[:2] < tablets.TABLETS_BY_DEFAULT_FROM
    choice = decided("never", server)
    if choice is None:
        assert server.tablets_mode == "enforced" and not old
        return
    assert choice.tag == (not old)


@given(facts(), st.sampled_from(tablets.SETTINGS))
def test_only_enforced_tablets_refuse_and_only_when_the_tag_is_wanted(
    server: ServerFacts, setting: str
) -> None:
    choice = decided(setting, server)
    if server.tablets_mode != "enforced":
        assert choice is not None
    if choice is None:
        assert setting != "always"
        unforced = ServerFacts(server.version, "enabled")
        assert choose(setting, unforced, "t").tag, "refused only where the tag would be put"


@pytest.mark.parametrize(
    ("version", "mode", "tag"),
    [
        ("2026.1.3-0.20260301.abc", '"enabled"', True),
        ("2025.4.0-0.20251001.abc", '"enabled"', True),
        ("2026.1.3-0.20260301.abc", '"disabled"', False),
        ("2026.2.0-0.20260601.abc", '"enabled"', False),
        ("6.2.3-0.20250119.abc", None, False),
        ("2025.3.8-0.20251101.abc", '"enabled"', False),  # reserves the tag, no tablets anyway
        (None, None, True),
        ("2026.1.0", None, True),  # mode unreadable: cannot tell
    ],
)
def test_auto_by_the_facts_of_real_versions(
    version: str | None, mode: str | None, tag: bool
) -> None:
    choice = choose("auto", ServerFacts(version, tablets.parse_mode(mode)), "t")
    assert choice.tag is tag
    assert ("system:initial_tablets" in choice.note) or not tag


def test_enforced_tablets_name_the_ways_out() -> None:
    with pytest.raises(UserError) as refused:
        choose("auto", ServerFacts("2026.1.0-0.2026", "enforced"), "orders")
    said = str(refused.value)
    assert "ScyllaDB 2026.1.0 enforces tablets" in said and "orders" in said
    assert "tablets: always" in said and "2026.2" in said


def test_always_says_whether_this_server_refuses_streams_on_tablets() -> None:
    refusing = choose("always", ServerFacts("2026.1.0", "enabled"), "t")
    assert refusing.warning and "ScyllaDB 2026.1.0 is one of them" in refusing.note
    allowing = choose("always", ServerFacts("2026.2.1", "enabled"), "t")
    assert not allowing.warning and "allows streams" in allowing.note


@pytest.mark.parametrize(
    ("version", "uses", "warning", "phrase"),
    [
        ("2026.1.0", True, True, "ScyllaDB 2026.1.0 refuses"),
        (None, True, True, "2025.4 and 2026.1 refuse"),
        ("2026.2.0", True, False, "allows streams"),
        ("2026.1.0", False, False, "uses vnodes"),
        ("2026.1.0", None, True, "could not check"),
    ],
)
def test_an_existing_table_is_checked(
    version: str | None, uses: bool | None, warning: bool, phrase: str
) -> None:
    said = tablets.existing_table_note(ServerFacts(version, "enabled"), uses, "orders")
    assert said.warning is warning and phrase in said.note and not said.tag
    if warning:
        assert "system:initial_tablets=none" in said.note and "cannot be changed" in said.note


def test_the_servers_refusals_are_recognised_by_their_text() -> None:
    # Messages as ScyllaDB 2026.1 and 2025.3 word them (alternator/executor.cc).
    stream = (
        "UpdateTable on source failed: HTTP 400 ValidationException: Streams not yet supported "
        "on a table using tablets (issue #23838). If you want to enable streams, re-create this "
        "table with vnodes (with the tag 'system:initial_tablets' set to 'none')."
    )
    assert tablets.stream_refused_for_tablets(stream)
    assert not tablets.stream_refused_for_tablets("Table already has an enabled stream: t")
    reserved = "Tag key 'system:initial_tablets' is reserved for internal use"
    assert tablets.refused_as_reserved(reserved) and not tablets.refused_as_enforced(reserved)
    enforced = (
        "Tag system:initial_tablets containing non-numerical value requests vnodes, but vnodes "
        "are forbidden by configuration option `tablets_mode_for_new_keyspaces: enforced`"
    )
    assert tablets.refused_as_enforced(enforced) and not tablets.refused_as_reserved(enforced)


def test_the_way_back_refusal_says_what_to_do() -> None:
    said = tablets.way_back_refusal("orders", "source (http://127.0.0.1:8000)")
    assert "orders" in said and "system:initial_tablets=none" in said
    assert "re-create" in said and "2026.2" in said
