"""The Spark engine's refusals, one line each, and its spark-submit entry.

PySpark's absence is shown honestly without a second virtual environment: Python's
import system refuses a module whose ``sys.modules`` entry is None, exactly as
when it is not installed (ModuleNotFoundError), and the real CLI runs after that.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import REPO, error_line, pid_alive
from tests.refusals import Case
from tests.tables import load, scan_all, section, write_config
from toolkit.engines.choose import check_master
from toolkit.errors import UserError
from toolkit.spark_submit import on_spark

if TYPE_CHECKING:
    from tests.conftest import Endpoints

FORMER_ENTRY = REPO / "toolkit" / "engines" / "submit.py"  # spark-submit runs it as a file
WITHOUT_PYSPARK = "import sys; sys.modules['pyspark'] = None; from toolkit.cli import main; main()"


@pytest.fixture(autouse=True)
def spark_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)


def test_engine_spark_without_pyspark_is_one_line_and_touches_nothing(case: Case) -> None:
    case.source_table()
    config = case.config()
    before = case.seen()
    for command in ("migrate", "verify"):
        args = (command, "--config", str(config), "--engine", "spark")
        result = subprocess.run(
            [sys.executable, "-c", WITHOUT_PYSPARK, *args],
            capture_output=True,
            text=True,
            cwd=case.tmp,
            timeout=60,
            check=False,
        )
        line = error_line(result)
        assert result.stderr.strip() == line
        assert "--engine spark needs PySpark" in line
        assert "pip install 'toolkit[spark]'" in line
    assert case.seen() == before
    assert not (case.tmp / "config.state.sqlite").exists()


def test_a_bad_master_url_is_one_line_before_any_table_is_touched(case: Case) -> None:
    case.source_table()
    config = case.config()
    before = case.seen()
    for command in ("migrate", "verify"):
        result = case.run(command, config, "--engine", "spark", "--master", "nowhere://x")
        line = error_line(result)
        assert result.stderr.strip() == line  # refused before a JVM starts: no Java trace
        assert line.startswith("error: --master nowhere://x: not a Spark master URL")
        assert "spark://HOST:PORT" in line
    assert case.seen() == before


@given(
    st.one_of(
        st.just("local"),
        st.builds("local[{}]".format, st.integers(1, 64) | st.just("*")),
        st.builds("local[{},{}]".format, st.integers(1, 64) | st.just("*"), st.integers(1, 9)),
        # at most 256 task slots (workers x cores), as a run holds
        st.builds(
            "local-cluster[{},{},{}]".format, *[st.integers(1, 16)] * 2, st.integers(1, 4096)
        ),
        st.builds(
            "spark://{}:{}".format,
            st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True),
            st.integers(1, 65535),
        ),
        st.just("yarn"),
        st.builds("k8s://https://{}".format, st.from_regex(r"[a-z0-9.:-]{1,20}", fullmatch=True)),
    )
)
def test_every_form_of_a_spark_master_is_taken(master: str) -> None:
    assert check_master(master) == master


@given(
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", "local", "local[2]", "spark://h:7077", "yarn"]),
        st.sampled_from([" ", "\t", "\n", "\u00a0"]),
        st.sampled_from(["", "local", "[2]", "yarn", "x"]),
    )
)
def test_a_master_with_spaces_around_or_in_it_is_refused(master: str) -> None:
    with pytest.raises(UserError, match="not a Spark master URL"):
        check_master(master)


@pytest.mark.parametrize(
    ("flags", "phrase"),
    [
        (("--master", "local[2]"), "--master is for the Spark engine: add --engine spark"),
        (("--spark-conf", "spark.ui.enabled=false"), "--spark-conf is for the Spark engine"),
        (("--engine", "spark", "--spark-conf", "novalue"), "--spark-conf 'novalue': give KEY="),
        (
            ("--engine", "spark", "--spark-conf", "spark.speculation=True"),
            "--spark-conf spark.speculation=True: speculative tasks could write a key's changes "
            "out of order; the toolkit needs spark.speculation=false",
        ),
    ],
)
def test_engine_flags_out_of_place_are_one_line(
    case: Case, flags: tuple[str, ...], phrase: str
) -> None:
    case.source_table()
    config = case.config()
    before = case.seen()
    for command in ("migrate", "verify"):
        result = case.run(command, config, *flags)
        line = error_line(result)
        assert phrase in line and result.stderr.strip() == line
    assert case.seen() == before


def test_spark_submit_runs_the_same_migrate_on_the_spark_engine(
    endpoints: Endpoints, case: Case, table_name: str, tmp_path: Path
) -> None:
    case.source_table()
    config = write_config(
        tmp_path / "submit.yaml",
        section(endpoints.source, table_name, scanSegments=2),
        section(endpoints.target, table_name),
    )
    spark_submit = Path(sys.executable).with_name("spark-submit")
    where = [sys.executable, "-m", "toolkit.engines.submit", "--path"]  # as the README shows
    entry = subprocess.run(where, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(entry) == REPO / "toolkit" / "spark_submit.py"
    options = ("--master", "local[1]", "--conf", "spark.ui.enabled=false")
    result = subprocess.run(
        [str(spark_submit), *options, entry, "migrate", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # spark-submit runs the driver with its stderr joined to its stdout
    assert "Spark engine: master local[1]" in result.stdout
    assert "2 segments, 1 at a time, on the spark engine" in result.stdout
    assert "Snapshot done: 5 items" in result.stdout
    assert scan_all(endpoints.target, table_name) == scan_all(endpoints.source, table_name)


@pytest.mark.parametrize(
    "entry",
    [["-m", "toolkit.spark_submit"], ["-m", "toolkit.engines.submit"], [str(FORMER_ENTRY)]],
)
def test_every_name_of_the_spark_submit_entry_leads_to_the_same_file(entry: list[str]) -> None:
    """spark-submit runs a file as a script: the former entry's path still runs the new one."""
    where = [sys.executable, *entry, "--path"]
    printed = subprocess.run(where, capture_output=True, text=True, check=True).stdout
    assert Path(printed.strip()) == REPO / "toolkit" / "spark_submit.py"


def test_the_former_spark_submit_entry_runs_the_command_on_the_spark_engine(case: Case) -> None:
    """Its arguments reach the CLI with --engine spark added: --spark-conf is checked as such."""
    case.source_table()
    config = case.config()
    before = case.seen()
    command = [sys.executable, str(FORMER_ENTRY), "migrate", "--config", str(config)]
    result = subprocess.run(
        [*command, "--spark-conf", "novalue"], capture_output=True, text=True, check=False
    )
    # without the Spark engine, the line would be "--spark-conf is for the Spark engine"
    assert "--spark-conf 'novalue': give KEY=" in error_line(result)
    assert case.seen() == before


def test_an_error_inside_a_spark_task_is_the_toolkit_s_one_line(
    endpoints: Endpoints, case: Case, table_name: str, tmp_path: Path
) -> None:
    """A rename clash is found by the task that copies the item: one line, nothing recorded."""
    case.source_table()
    clash = {"id": {"S": "both"}, "a": {"S": "old"}, "b": {"S": "new"}}
    load(endpoints.source, table_name, [clash], ["id"])
    config = write_config(
        tmp_path / "clash.yaml",
        section(endpoints.source, table_name, scanSegments=2),
        section(endpoints.target, table_name),
        renames=[{"from": "a", "to": "b"}],
    )
    state = tmp_path / "clash.sqlite"
    mark = {"TOOLKIT_TEST_RUN": uuid.uuid4().hex}  # inherited by the JVM it starts
    command = ("migrate", "--config", str(config), "--state", str(state), *SPARK)
    result, alive = run_watching_jvms(command, mark)
    assert not alive, "the Spark JVM outlived the toolkit's last line (its logs may follow it)"
    line = error_line(result)
    assert 'item {"id":{"S":"both"}} of table' in line and "holds both a and b" in line
    with closing(sqlite3.connect(state)) as db:
        recorded = db.execute("SELECT segment, items, done FROM segments").fetchall()
    # The clash's segment is not recorded; the other one is, whole, or not at all.
    assert len(recorded) == 2 and not all(done for *_, done in recorded)
    assert all(done or items == 0 for _, items, done in recorded)
    assert not any("'both'" in key for key in scan_all(endpoints.target, table_name))


SPARK = ("--engine", "spark", "--master", "local[2]", "--spark-conf", "spark.ui.enabled=false")


def run_marked(
    command: tuple[str, ...], mark: dict[str, str], on_line: Callable[[str], None]
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with ``mark`` in its environment (its JVM inherits it), calling
    ``on_line`` for each line of its stderr as it comes."""
    with subprocess.Popen(
        [sys.executable, "-m", "toolkit", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **mark},
    ) as cli:
        assert cli.stderr is not None and cli.stdout is not None
        lines = []
        for line in cli.stderr:
            on_line(line)
            lines.append(line)
        out = cli.stdout.read()
        code = cli.wait(180)
    return subprocess.CompletedProcess(command, code, out, "".join(lines))


def run_watching_jvms(
    command: tuple[str, ...], mark: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], list[int]]:
    """Run the CLI; also the JVMs (started by it) alive when its error line came."""
    alive: list[int] = []

    def watch(line: str) -> None:
        if line.startswith("error: "):
            alive.extend(java_processes_with(mark))

    return run_marked(command, mark, watch), alive


def java_processes_with(environment: dict[str, str]) -> list[int]:
    """The live JVMs whose environment holds ``environment``."""
    wanted = {f"{name}={value}".encode() for name, value in environment.items()}
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (proc / "comm").read_text().strip() != "java":
                continue
            if wanted <= set((proc / "environ").read_bytes().split(b"\0")) and pid_alive(
                int(proc.name)
            ):
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue  # ended meanwhile, or not a process
    return found


def test_the_spark_jvm_dying_mid_replay_is_one_line(case: Case, tmp_path: Path) -> None:
    """The driver's JVM killed (an operator's kill, the OOM killer): the run's own error
    is its one line, not a trace from stopping a context that is gone."""
    case.source_table()
    mark = {"TOOLKIT_TEST_RUN": uuid.uuid4().hex}
    command = ("migrate", "--config", str(case.config()), "--state", str(tmp_path / "s"), *SPARK)
    replaying = []

    def kill_when_replaying(line: str) -> None:
        if "Replaying the stream's shards on the spark engine" in line:
            replaying.append(line)
            for pid in java_processes_with(mark):
                os.kill(pid, signal.SIGKILL)

    result = run_marked(command, mark, kill_when_replaying)
    assert replaying, result.stderr
    line = error_line(result)
    assert "JVM stopped answering" in line and "run the same command again" in line, line


def test_the_entry_names_the_spark_engine_unless_one_is_given() -> None:
    assert on_spark(["migrate", "--config", "c.yaml"]) == [
        "migrate",
        "--engine",
        "spark",
        "--config",
        "c.yaml",
    ]
    assert on_spark(["verify", "--engine=embedded"]) == ["verify", "--engine=embedded"]
    assert on_spark([]) == []
