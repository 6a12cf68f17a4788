"""Start, stop and report the two local DynamoDB servers (source and target).

The PIDs of what `up` started are recorded in ``<home>/local/servers.json``; `down`
stops exactly those processes, and only after checking that each PID still is the
DynamoDB Local it started on that port (a PID can be reused by the system).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from toolkit.errors import LocalServerError
from toolkit.local.fetch import Emulator, ensure_emulator

ROLES = ("source", "target")


@dataclass(frozen=True)
class LocalSettings:
    home: Path
    cache_dir: Path
    source_port: int = 8000
    target_port: int = 8001
    heap: str = "512m"
    start_timeout: float = 60.0

    @property
    def run_file(self) -> Path:
        return self.home / "local" / "servers.json"

    def ports(self) -> dict[str, int]:
        return {"source": self.source_port, "target": self.target_port}


@dataclass(frozen=True)
class RunningServer:
    role: str
    port: int
    pid: int
    log: str

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class ServerStatus:
    server: RunningServer
    alive: bool
    answering: bool


def up(settings: LocalSettings) -> tuple[list[RunningServer], bool]:
    """Start both servers; return them and whether they were already running."""
    recorded = _read_run_file(settings.run_file)
    if recorded:
        alive = [s for s in recorded if _is_our_server(s)]
        if len(alive) == len(recorded) and all(_answers(s.port) for s in alive):
            return recorded, True
        if alive:
            raise LocalServerError(
                "the local servers are only partly running; run `toolkit local down`, then `up`"
            )
        settings.run_file.unlink()
    java = shutil.which("java")
    if java is None:
        raise LocalServerError(
            "java not found: install Java 17 (for example "
            "`apt-get install openjdk-17-jre-headless`), then run the command again"
        )
    emulator = ensure_emulator(settings.cache_dir)
    _check_ports(settings.ports())
    started: list[RunningServer] = []
    try:
        for role, port in settings.ports().items():
            started.append(_start(java, emulator, settings, role, port))
            _write_run_file(settings.run_file, started)
        for server in started:
            _wait_until_answering(server, settings.start_timeout)
    except BaseException:
        for server in started:
            _stop(server)
        settings.run_file.unlink(missing_ok=True)
        raise
    return started, False


def down(settings: LocalSettings) -> list[RunningServer]:
    """Stop the recorded servers; return those that were running."""
    recorded = _read_run_file(settings.run_file)
    stopped = [s for s in recorded if _stop(s)]
    settings.run_file.unlink(missing_ok=True)
    return stopped


def status(settings: LocalSettings) -> list[ServerStatus]:
    result = []
    for server in _read_run_file(settings.run_file):
        alive = _is_our_server(server)
        result.append(ServerStatus(server, alive, alive and _answers(server.port)))
    return result


def _check_ports(ports: dict[str, int]) -> None:
    if len(set(ports.values())) != len(ports):
        raise LocalServerError("the source and target ports must differ; pick two ports")
    for role, port in ports.items():
        if not port_is_free(port):
            raise LocalServerError(
                f"port {port} (the {role} server's) is already in use; stop what listens "
                f"there or pick another with --{role}-port"
            )


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def _start(
    java: str, emulator: Emulator, settings: LocalSettings, role: str, port: int
) -> RunningServer:
    log = settings.home / "local" / f"{role}-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        java,
        f"-Xmx{settings.heap}",
        f"-Djava.library.path={emulator.lib}",
        "-jar",
        str(emulator.jar),
        "-inMemory",
        "-sharedDb",
        "-disableTelemetry",
        "-port",
        str(port),
    ]
    with log.open("wb") as out:
        # A session of its own: Ctrl-C in the shell that ran `up` must not stop it.
        process = subprocess.Popen(
            command,
            cwd=emulator.folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningServer(role, port, process.pid, str(log))


def _wait_until_answering(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_alive(server.pid):
            raise LocalServerError(
                f"the {server.role} server on port {server.port} exited while starting "
                f"({_last_line(Path(server.log))}); see {server.log}"
            )
        if _answers(server.port):
            return
        time.sleep(0.2)
    raise LocalServerError(
        f"the {server.role} server on port {server.port} did not answer within "
        f"{timeout:.0f} s; see {server.log}"
    )


def _answers(port: int) -> bool:
    """A signed ListTables, as any real client would send."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
    try:
        client.list_tables(Limit=1)
    except (BotoCoreError, ClientError):
        return False
    return True


def _stop(server: RunningServer) -> bool:
    if not _is_our_server(server):
        return False
    os.kill(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _is_alive(server.pid):
        if time.monotonic() > deadline:
            os.kill(server.pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
        time.sleep(0.05)
    return True


def _is_our_server(server: RunningServer) -> bool:
    """Alive, and still the DynamoDB Local we started on that port."""
    if not _is_alive(server.pid):
        return False
    try:
        argv = Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return any(a.endswith(b"DynamoDBLocal.jar") for a in argv) and str(server.port).encode() in argv


def _is_alive(pid: int) -> bool:
    try:
        # Reap it if it is our own child, so that an exited server is not a zombie.
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip() if lines else "no output"


def _read_run_file(run_file: Path) -> list[RunningServer]:
    try:
        entries = json.loads(run_file.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise LocalServerError(f"cannot read {run_file} ({error}); delete it and retry") from None
    return [RunningServer(**entry) for entry in entries]


def _write_run_file(run_file: Path, servers: list[RunningServer]) -> None:
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps([asdict(s) for s in servers], indent=2) + "\n")
