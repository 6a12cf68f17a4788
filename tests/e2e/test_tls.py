"""https endpoints: the target's CA bundle is trusted by the control plane, the data
plane and the /localnodes listing; without it the run stops at once with one line."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trustme

from tests.conftest import Endpoints
from tests.fakes.fake_alternator import FakeCluster, fake_cluster
from tests.helpers import run_cli
from tests.tables import create_table, load, scan_all, section, write_config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ITEMS = 300


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_cluster(endpoints: Endpoints, authority: trustme.CA) -> Iterator[FakeCluster]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    with fake_cluster(endpoints.target, tls=context) as cluster:
        yield cluster


def configure(
    tmp_path: Path, endpoints: Endpoints, table: str, cluster: FakeCluster, **target: Any
) -> Path:
    keys = {"type": "alternator", "streamChanges": False, **target}
    return write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, table),
        section(cluster.urls[0], table, **keys),
    )


def migrate(config: Path) -> tuple[int, str]:
    result = run_cli("migrate", "--config", str(config), "--state", str(config.with_suffix(".db")))
    return result.returncode, result.stderr


def test_a_trusted_ca_bundle_carries_the_whole_run_over_https(
    endpoints: Endpoints,
    table_name: str,
    tmp_path: Path,
    source_client: DynamoDBClient,
    tls_cluster: FakeCluster,
    authority: trustme.CA,
) -> None:
    assert all(url.startswith("https://") for url in tls_cluster.urls)
    create_table(source_client, table_name)
    load(endpoints.source, table_name, ({"id": {"S": f"k{n}"}} for n in range(ITEMS)), ["id"])
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    config = configure(tmp_path, endpoints, table_name, tls_cluster, caBundle=str(bundle))
    code, err = migrate(config)
    assert code == 0, err[-2000:]
    assert len(scan_all(endpoints.target, table_name)) == ITEMS
    assert tls_cluster.listings, "the nodes were listed over https"
    assert all(tls_cluster.count(n, "BatchWriteItem") for n in range(3))


def test_an_untrusted_certificate_is_one_line_and_no_table_is_made(
    endpoints: Endpoints,
    table_name: str,
    tmp_path: Path,
    source_client: DynamoDBClient,
    target_client: DynamoDBClient,
    tls_cluster: FakeCluster,
) -> None:
    create_table(source_client, table_name)
    code, err = migrate(configure(tmp_path, endpoints, table_name, tls_cluster))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "TLS with" in err and "caBundle" in err
    assert table_name not in target_client.list_tables()["TableNames"]
    assert [path.name for path in tmp_path.iterdir()] == ["config.yaml"], "no state file left"


@pytest.mark.parametrize(
    ("content", "problem"), [(None, "cannot be read"), (b"not a cert", "holds no PEM")]
)
def test_a_ca_bundle_that_is_not_a_certificate_file_is_refused(
    endpoints: Endpoints, tmp_path: Path, content: bytes | None, problem: str
) -> None:
    bundle = tmp_path / "ca.pem"
    if content is not None:
        bundle.write_bytes(content)
    config = write_config(
        tmp_path / "config.yaml",
        section(endpoints.source, "t_abc"),
        section(endpoints.target, "t_abc", caBundle=str(bundle)),
    )
    result = run_cli("migrate", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {config}: target.caBundle {problem}")
