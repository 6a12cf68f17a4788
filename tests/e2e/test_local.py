"""`toolkit local`: real DynamoDB Local processes started, reported and stopped."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.helpers import CACHE_DIR, free_port, pid_alive, run_cli
from toolkit.errors import LocalServerError
from toolkit.local.fetch import RELEASE_ARCHIVE_SHA256, emulator_folder, ensure_emulator


def local(
    home: Path, *args: str, cache_dir: Path = CACHE_DIR, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli("local", "--home", str(home), "--cache-dir", str(cache_dir), *args, env=env)


def recorded_pids(home: Path) -> list[int]:
    run_file = home / "local" / "servers.json"
    if not run_file.exists():
        return []
    return [entry["pid"] for entry in json.loads(run_file.read_text())]


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_up_status_down_round_trip_leaves_no_process(tmp_path: Path) -> None:
    source_port, target_port = free_port(), free_port()
    ports = ["--source-port", str(source_port), "--target-port", str(target_port)]
    started = local(tmp_path, "up", *ports, "--heap", "256m")
    assert started.returncode == 0, started.stderr
    pids = recorded_pids(tmp_path)
    assert len(pids) == 2
    assert all(pid_alive(pid) for pid in pids)
    try:
        shown = local(tmp_path, "status")
        assert shown.returncode == 0
        assert shown.stdout.count("answering") == 2
        assert f"127.0.0.1:{source_port}" in shown.stdout
        assert f"127.0.0.1:{target_port}" in shown.stdout

        again = local(tmp_path, "up", *ports)
        assert again.returncode == 0
        assert again.stdout.count("already running") == 2
        assert recorded_pids(tmp_path) == pids
    finally:
        stopped = local(tmp_path, "down")
    assert stopped.returncode == 0
    assert stopped.stdout.count("stopped") == 2
    assert not any(pid_alive(pid) for pid in pids)
    assert "no local servers are recorded" in local(tmp_path, "status").stdout


def test_port_in_use_is_one_line_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = local(
            tmp_path, "up", "--source-port", str(free_port()), "--target-port", str(port)
        )
    assert_one_line_error(result, f"port {port}", "--target-port")
    assert recorded_pids(tmp_path) == []


def test_missing_java_is_one_line(tmp_path: Path) -> None:
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    result = local(tmp_path, "up", env={"PATH": str(empty_path)})
    assert_one_line_error(result, "java not found", "install Java")


def test_missing_npm_with_empty_cache_is_one_line(tmp_path: Path) -> None:
    only_java = tmp_path / "bin"
    only_java.mkdir()
    (only_java / "java").symlink_to("/usr/bin/java")
    result = local(tmp_path, "up", cache_dir=tmp_path / "cache", env={"PATH": str(only_java)})
    assert_one_line_error(result, "npm not found")


def test_server_dying_at_start_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    # A java that refuses to start, as the JVM does a heap it cannot reserve (--heap itself
    # is range-checked before any server starts).
    dying = tmp_path / "bin"
    dying.mkdir()
    (dying / "java").write_text("#!/bin/sh\necho 'Could not reserve enough space'; exit 1\n")
    (dying / "java").chmod(0o755)
    ports = ["--source-port", str(free_port()), "--target-port", str(free_port())]
    path = f"{dying}:{os.environ['PATH']}"
    result = local(tmp_path, "up", *ports, env={"PATH": path})
    assert_one_line_error(result, "exited while starting", "source-")
    assert recorded_pids(tmp_path) == []
    assert not any("DynamoDBLocal.jar" in line and ports[1] in line for line in _processes())


def test_down_stops_only_what_up_started(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        run_file = tmp_path / "local" / "servers.json"
        run_file.parent.mkdir(parents=True)
        entry = {"role": "source", "port": free_port(), "pid": bystander.pid, "log": "x"}
        run_file.write_text(json.dumps([entry]))
        result = local(tmp_path, "down")
        assert result.returncode == 0
        assert "no local servers were running" in result.stdout
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_changed_jar_in_the_cache_is_refused(tmp_path: Path) -> None:
    folder = emulator_folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / "sha256").write_text(RELEASE_ARCHIVE_SHA256)
    (folder / "DynamoDBLocal.jar").write_bytes(b"not the jar")
    with pytest.raises(LocalServerError, match="does not match its pinned sha256"):
        ensure_emulator(tmp_path)


def test_a_cache_of_another_release_is_refused(tmp_path: Path) -> None:
    folder = emulator_folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / "sha256").write_text("0" * 64)
    (folder / "DynamoDBLocal.jar").write_bytes(b"")
    with pytest.raises(LocalServerError, match="another DynamoDB Local release"):
        ensure_emulator(tmp_path)


def _processes() -> list[str]:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    return listing.stdout.splitlines()
