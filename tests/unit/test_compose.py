"""docker-compose.yml, checked by its structure: no container engine runs here.

The stack is DynamoDB Local (``source``), a three-node ScyllaDB cluster with
Alternator (``scylla-1..3``, joining one at a time) and the toolkit, built from the
Dockerfile, running the seed scenario with a config the toolkit itself must accept.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from toolkit.config import load_config
from toolkit.logic.tablets import STREAMS_ON_TABLETS_FROM, TABLETS_BY_DEFAULT_FROM, parse_version

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
NODES = ("scylla-1", "scylla-2", "scylla-3")
PINNED = ("source", *NODES)  # the services that run an image, not a build
ALTERNATOR_PORT = 8000
DYNAMODB_LOCAL_PORT = 8000
HEALTHY = "service_healthy"

Service = dict[str, Any]


@pytest.fixture(scope="module")
def services() -> dict[str, Service]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), "docker-compose.yml must be a mapping"
    found = document.get("services")
    assert isinstance(found, dict), "docker-compose.yml needs a services mapping"
    return found


# Readers of compose values, each with the forms compose allows.


def image_tag(image: str) -> str | None:
    """The tag of ``repo[:tag][@digest]``; a registry's ``host:port/`` is not a tag."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def is_pinned(image: str) -> bool:
    """A concrete version: a tag that starts with a digit (``latest`` and none are not)."""
    tag = image_tag(image)
    return tag is not None and re.match(r"\d", tag) is not None


def words(command: str | list[str] | None) -> list[str]:
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]


def flags(command: str | list[str] | None) -> dict[str, str | None]:
    """``--name value``, ``--name=value`` and bare ``--switch`` (None) of a command."""
    parts = words(command)
    found: dict[str, str | None] = {}
    for i, word in enumerate(parts):
        if not word.startswith("-"):
            continue
        name, equals, value = word.partition("=")
        following = parts[i + 1] if i + 1 < len(parts) else None
        if equals:
            found[name] = value
        elif following is not None and not following.startswith("-"):
            found[name] = following
        else:
            found[name] = None
    return found


def published(service: Service) -> dict[int, int]:
    """Container port -> host port, from ``C``, ``H:C`` or ``IP:H:C`` (``/tcp`` allowed)."""
    mapping = {}
    for entry in service.get("ports", []):
        parts = str(entry).split("/", 1)[0].split(":")
        container = int(parts[-1])
        mapping[container] = int(parts[-2]) if len(parts) > 1 else container
    return mapping


def conditions(service: Service) -> dict[str, str]:
    """Dependency -> condition; the list form means ``service_started``."""
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def check_command(service: Service) -> str:
    """The health check's test as one line, or '' when there is none or it is disabled."""
    test = (service.get("healthcheck") or {}).get("test")
    if service.get("healthcheck", {}).get("disable") or not test:
        return ""
    line = test if isinstance(test, str) else " ".join(str(w) for w in test)
    return "" if line.strip() == "NONE" else line


def host_and_port(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


# The readers must be able to say no, or the checks below prove nothing.


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("scylladb/scylla:6.2.3", True),
        ("amazon/dynamodb-local:2.5.2", True),
        ("scylladb/scylla:6.2.3@sha256:abc", True),
        ("scylladb/scylla:latest", False),
        ("scylladb/scylla", False),
        ("registry.local:5000/scylla", False),
        ("scylladb/scylla:nightly", False),
    ],
)
def test_is_pinned_needs_a_version_tag(image: str, pinned: bool) -> None:
    assert is_pinned(image) is pinned


def test_flags_reads_each_form() -> None:
    command = "--seeds scylla-1 --smp=1 --overprovisioned --developer-mode 1"
    assert flags(command) == {
        "--seeds": "scylla-1",
        "--smp": "1",
        "--overprovisioned": None,
        "--developer-mode": "1",
    }
    assert flags(["--alternator-port", "8000"]) == {"--alternator-port": "8000"}


def test_published_and_conditions_read_each_form() -> None:
    assert published({"ports": ["8001:8000", "127.0.0.1:9042:9042/tcp", 7000]}) == {
        8000: 8001,
        9042: 9042,
        7000: 7000,
    }
    assert conditions({"depends_on": ["a"]}) == {"a": "service_started"}
    assert conditions({"depends_on": {"b": {"condition": HEALTHY}}}) == {"b": HEALTHY}
    assert check_command({"healthcheck": {"test": ["NONE"]}}) == ""


# The stack itself.


def test_the_stack_has_its_five_services(services: dict[str, Service]) -> None:
    assert {"source", *NODES, "toolkit"} <= set(services)


@pytest.mark.parametrize("name", PINNED)
def test_images_are_pinned(services: dict[str, Service], name: str) -> None:
    image = services[name].get("image", "")
    assert is_pinned(image), f"{name}: image {image!r} needs a concrete version tag"


def test_source_is_dynamodb_local_in_memory(services: dict[str, Service]) -> None:
    source = services["source"]
    assert source["image"].startswith("amazon/dynamodb-local:")
    command = words(source.get("command"))
    assert command[:2] == ["-jar", "DynamoDBLocal.jar"]
    assert {"-inMemory", "-sharedDb", "-disableTelemetry"} <= set(command)
    assert DYNAMODB_LOCAL_PORT in published(source), "the source must be reachable from the host"


@pytest.mark.parametrize("name", NODES)
def test_each_node_serves_alternator(services: dict[str, Service], name: str) -> None:
    node = services[name]
    assert node["image"].startswith("scylladb/scylla:")
    given = flags(node.get("command"))
    assert given.get("--alternator-port") == str(ALTERNATOR_PORT)
    assert given.get("--alternator-write-isolation") == "forbid_rmw"
    assert given.get("--alternator-address") == "0.0.0.0"
    assert given.get("--developer-mode") == "1"
    assert given.get("--smp") == "1"
    assert given.get("--memory"), f"{name}: bound the memory for a laptop"


@pytest.mark.parametrize("name", NODES)
def test_each_node_is_a_release_whose_alternator_tables_default_to_tablets(
    services: dict[str, Service], name: str
) -> None:
    release = parse_version(image_tag(services[name]["image"]))
    assert release is not None and release[:2] >= TABLETS_BY_DEFAULT_FROM
    # Where streams on tablet tables are refused, the toolkit's tag must be what makes the
    # way back work: the stack shows that case.
    assert release[:2] < STREAMS_ON_TABLETS_FROM
    assert flags(services[name].get("command")).get("--tablets-mode-for-new-keyspaces") == "enabled"


@pytest.mark.parametrize("name", NODES)
def test_each_node_finds_the_cluster_through_scylla_1(
    services: dict[str, Service], name: str
) -> None:
    seeds = (flags(services[name].get("command")).get("--seeds") or "").split(",")
    assert "scylla-1" in seeds
    assert set(seeds) <= set(NODES), f"{name}: seeds {seeds} name no other service"


def test_alternator_is_reachable_from_the_host(services: dict[str, Service]) -> None:
    assert ALTERNATOR_PORT in published(services["scylla-1"])


def test_host_ports_do_not_collide(services: dict[str, Service]) -> None:
    taken = [port for service in services.values() for port in published(service).values()]
    assert len(taken) == len(set(taken)), f"host ports used twice: {sorted(taken)}"


@pytest.mark.parametrize("name", PINNED)
def test_servers_have_health_checks(services: dict[str, Service], name: str) -> None:
    assert check_command(services[name]), f"{name} needs a health check"


@pytest.mark.parametrize("name", NODES)
def test_node_health_needs_cql_and_alternator(services: dict[str, Service], name: str) -> None:
    line = check_command(services[name])
    assert "cqlsh" in line, f"{name}: the check must run a CQL query"
    assert f":{ALTERNATOR_PORT}" in line, f"{name}: the check must ask Alternator too"


@pytest.mark.parametrize(
    ("name", "needs"),
    [
        ("scylla-1", set()),
        ("scylla-2", {"scylla-1"}),
        ("scylla-3", {"scylla-2"}),
        ("toolkit", {"source", "scylla-3"}),
    ],
)
def test_nodes_join_one_at_a_time_and_the_toolkit_waits(
    services: dict[str, Service], name: str, needs: set[str]
) -> None:
    depends = conditions(services[name])
    on_nodes = {dependency for dependency in depends if dependency in NODES}
    assert needs <= set(depends), f"{name} must wait for {sorted(needs)}"
    assert on_nodes <= needs, f"{name} must wait only for the node before it"
    for dependency in needs:
        assert depends[dependency] == HEALTHY, f"{name} -> {dependency}: wait until healthy"


# The toolkit's image and what it runs.


def dockerfile_of(service: Service) -> Path:
    build = service["build"]
    context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
    name = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    return context / name


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    lines = (line.strip() for line in text.splitlines())
    pairs = (line.split(None, 1) for line in lines if line and not line.startswith("#"))
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def test_toolkit_builds_from_a_python_311_dockerfile(services: dict[str, Service]) -> None:
    dockerfile = dockerfile_of(services["toolkit"])
    assert dockerfile.is_file(), f"{dockerfile} is missing"
    steps = instructions(dockerfile)
    assert steps[0][0] == "FROM"
    assert re.fullmatch(r"python:3\.11[\w.-]*", steps[0][1].split()[0])


def test_dockerfile_copies_existing_paths_and_installs_the_package(
    services: dict[str, Service],
) -> None:
    dockerfile = dockerfile_of(services["toolkit"])
    steps = instructions(dockerfile)
    copied: set[str] = set()
    for _, arguments in (step for step in steps if step[0] == "COPY"):
        *sources, _ = [word for word in arguments.split() if not word.startswith("--")]
        copied.update(sources)
    for source in copied:
        assert (dockerfile.parent / source).exists(), f"COPY {source}: no such path"
    assert {"pyproject.toml", "toolkit", "mutator", "verify"} <= copied
    installs = [args for step, args in steps if step == "RUN" and "pip install" in args]
    assert any(re.search(r"pip install\b.*\s\.(\s|$)", args) for args in installs)


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".toolkit", ".mypy_cache", ".pytest_cache"} <= set(ignored)


def toolkit_config(services: dict[str, Service]) -> Path:
    environment = services["toolkit"].get("environment", {})
    if isinstance(environment, list):
        environment = dict(entry.split("=", 1) for entry in environment)
    config = environment.get("DEMO_CONFIG")
    assert isinstance(config, str) and config, "the toolkit needs DEMO_CONFIG, the stack's config"
    return ROOT / config


def test_toolkit_runs_the_seed_scenario(services: dict[str, Service]) -> None:
    toolkit = services["toolkit"]
    command = words(toolkit.get("command"))
    assert "demo/run.sh" in command
    assert (ROOT / "demo/run.sh").is_file()
    assert toolkit_config(services).is_file()


def test_toolkit_config_points_at_the_stack(services: dict[str, Service]) -> None:
    config = load_config(toolkit_config(services))  # the toolkit's own checks
    source, target = config.source.endpoint, config.target.endpoint
    assert source is not None and target is not None, "name both servers of the stack"
    assert config.target.type == "alternator"
    target_host, target_port = host_and_port(target.url)
    assert target_host in NODES and target_host in services
    assert target_port == ALTERNATOR_PORT
    assert host_and_port(source.url) == ("source", DYNAMODB_LOCAL_PORT)
    assert config.target.stream_changes, "the seed scenario replays the stream"
    assert config.target.nodes is not None, "requests spread over the cluster's nodes"
    seeds = {host_and_port(seed) for seed in config.target.nodes.seeds}
    assert seeds == {(node, ALTERNATOR_PORT) for node in NODES}, "every node can list the nodes"
    assert config.target.write_isolation == "forbid_rmw"
    assert config.target.tablets == "auto", "the created table can have a stream: the way back"
    assert config.target.client.compression, "ScyllaDB 2026.1 reads gzipped request bodies"
