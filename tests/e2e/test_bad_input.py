"""Bad input through the real CLI: one line, exit code 2, and both servers as they were.

The `case` fixture (tests/refusals.py) runs each command as a user would and checks
that a refused command changed nothing on either server.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from tests.fakes.fault_proxy import FaultProxy, Page
from tests.helpers import error_line, free_port, run_cli
from tests.refusals import Case
from tests.tables import create_table, load

ALL = pytest.mark.parametrize("command", ["migrate", "verify", "mutate"])


@ALL
def test_malformed_yaml(case: Case, command: str) -> None:
    case.source_table()
    config = case.tmp / "config.yaml"
    config.write_text("source:\n  type: dynamodb\n  table: [unclosed\n target: x\n")
    case.refused(command, config, str(config), "YAML error at line 4")


@ALL
def test_a_misspelled_key(case: Case, command: str) -> None:
    case.source_table()
    config = case.config(streamChange=True)
    case.refused(command, config, "target.streamChange", "did you mean streamChanges?")


@ALL
def test_a_source_table_that_does_not_exist(case: Case, command: str) -> None:
    case.refused(command, case.config(), f"{case.table} does not exist", case.endpoints.source)


@ALL
def test_an_unreachable_source(case: Case, command: str) -> None:
    case.source_table()
    nobody = f"http://127.0.0.1:{free_port()}"
    case.refused(command, case.config(source=nobody), f"cannot reach source {nobody}")


@pytest.mark.parametrize("command", ["migrate", "verify"])
def test_an_unreachable_target_enables_no_stream(case: Case, command: str) -> None:
    case.source_table()
    nobody = f"http://127.0.0.1:{free_port()}"
    case.refused(command, case.config(target=nobody), f"cannot reach target {nobody}")


@pytest.mark.parametrize("command", ["migrate", "verify"])
def test_a_target_table_with_another_key_schema(case: Case, command: str) -> None:
    case.source_table()
    create_table(case.target, case.table, keys=(("id", "N"),))
    load(case.endpoints.target, case.table, [{"id": {"N": "1"}}], ["id"])
    case.refused(command, case.config(), "has key schema [id (N, HASH)]", "id (S, HASH)")


@pytest.mark.parametrize(
    ("view", "phrase"),
    [("NEW_AND_OLD_IMAGES", "already has an enabled stream"), ("KEYS_ONLY", "no new images")],
)
def test_a_source_whose_stream_is_already_enabled(case: Case, view: str, phrase: str) -> None:
    case.source_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    case.refused("migrate", case.config(), phrase)


def migrated_then_stream_disabled(case: Case) -> tuple[Path, str]:
    """A first run that follows the source's stream; then that stream is disabled."""
    case.source_table()
    config = case.config()
    first = case.run("migrate", config, "--stop-when-drained")
    assert first.returncode == 0, first.stderr
    followed = case.seen().stream[1]
    case.source.update_table(TableName=case.table, StreamSpecification={"StreamEnabled": False})
    return config, followed


def test_a_state_file_of_another_stream(case: Case) -> None:
    config, old = migrated_then_stream_disabled(case)
    case.source.update_table(
        TableName=case.table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    new = case.seen().stream[1]
    assert new != old
    case.refused("migrate", config, f"follows stream {old}", f"now has stream {new}")


def test_a_state_file_whose_stream_was_disabled(case: Case) -> None:
    config, old = migrated_then_stream_disabled(case)
    case.refused("migrate", config, f"the stream {old} recorded in", "was disabled")


# --- the state file -------------------------------------------------------------------


def a_real_state_file(case: Case) -> bytes:
    """The bytes of a state file a finished run left."""
    case.source_table()
    first = case.run("migrate", case.config(), "--stop-when-drained")
    assert first.returncode == 0, first.stderr
    return (case.tmp / "run.sqlite").read_bytes()


@pytest.mark.parametrize("damage", ["random bytes", "truncated", "another database"])
def test_a_state_file_that_is_not_a_run_state(case: Case, damage: str) -> None:
    state = case.tmp / "run.sqlite"
    if damage == "random bytes":
        case.source_table()
        state.write_bytes(bytes(range(256)) * 40)
    elif damage == "truncated":
        whole = a_real_state_file(case)
        state.write_bytes(whole[: len(whole) // 2])
        for leftover in case.tmp.glob("run.sqlite*"):
            if leftover != state:
                leftover.unlink()
    else:
        case.source_table()
        with closing(sqlite3.connect(state)) as other:
            other.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
            other.commit()
    config, before = case.config(), state.read_bytes()
    files = sorted(case.tmp.iterdir())
    case.refused("migrate", config, f"the state file {state.name}", "another --state")
    assert state.read_bytes() == before
    assert sorted(case.tmp.iterdir()) == files  # no journal, no lock file left beside it


@pytest.mark.parametrize("where", ["under a regular file", "under /proc"])
def test_a_state_path_that_cannot_be_created(case: Case, where: str) -> None:
    case.source_table()
    (case.tmp / "plain").write_text("a file, not a folder")
    state = case.tmp / "plain" / "run.sqlite" if where.endswith("file") else Path("/proc/x/s.db")
    config = case.config()
    before = case.seen()
    result = run_cli("migrate", "--config", str(config), "--state", str(state), cwd=case.tmp)
    line = error_line(result)
    assert f"--state {state}" in line and "give a --state in a folder" in line
    assert case.seen() == before


# --- a server's error page ------------------------------------------------------------

SIGNATURE_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>SignatureDoesNotMatch</Code>\n'
    b"  <Message>The request signature we calculated does not match the signature you\n"
    b"  provided.</Message>\n</Error>\n"
)
HTML_PAGE = b"<html>\n<head><title>403 Forbidden</title></head>\n<body>nope</body>\n</html>\n"


@ALL
def test_an_xml_error_page_on_the_control_plane_is_one_line(case: Case, command: str) -> None:
    case.source_table()
    with FaultProxy(case.endpoints.source) as proxy:
        proxy.answer_page(["DescribeTable"], Page(403, SIGNATURE_XML, "application/xml"))
        case.refused(
            command,
            case.config(source=proxy.url),
            f"DescribeTable on source {proxy.url} failed: HTTP 403 SignatureDoesNotMatch: "
            "The request signature we calculated does not match the signature you provided.",
            "check the credentials of this side",
        )


def test_an_html_page_on_the_data_plane_is_one_line(case: Case) -> None:
    case.source_table()
    create_table(case.target, case.table)
    with FaultProxy(case.endpoints.source) as proxy:
        proxy.answer_page(["Scan"], Page(403, HTML_PAGE))
        case.refused(
            "verify",
            case.config(source=proxy.url),
            f"Scan on source {proxy.url} failed: HTTP 403 Forbidden; check the credentials",
        )
        assert proxy.count("page Scan") >= 1


def test_a_5xx_page_on_the_control_plane_is_one_line(case: Case) -> None:
    case.source_table()
    page = b"<html><head><title>502 Bad Gateway</title></head><body><hr>nginx</body></html>"
    with FaultProxy(case.endpoints.source) as proxy:
        proxy.answer_page(["DescribeTable"], Page(502, page))
        case.refused(
            "migrate", case.config(source=proxy.url), "HTTP 502 Bad Gateway", str(proxy.url)
        )


# --- renames that would lose a value ------------------------------------------------------


@pytest.mark.parametrize(
    ("renames", "phrase"),
    [
        ([{"from": "n", "to": "id"}], "renames[0] renames n onto id, a key attribute of table"),
        (
            [{"from": "id", "to": "pk"}, {"from": "n", "to": "expires"}],
            "renames[1] renames n onto expires, the TTL attribute of table",
        ),
    ],
)
@pytest.mark.parametrize("command", ["migrate", "verify"])
def test_a_rename_onto_a_key_or_the_ttl_attribute(
    case: Case, command: str, renames: list[dict[str, str]], phrase: str
) -> None:
    case.source_table()
    case.source.update_time_to_live(
        TableName=case.table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
    )
    if command == "verify":
        create_table(case.target, case.table, keys=(("pk" if len(renames) > 1 else "id", "S"),))
    config = case.config()
    data = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**data, "renames": renames}))
    case.refused(command, config, phrase, "rename id as well" if "key" in phrase else "expires")
