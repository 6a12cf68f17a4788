"""Sessions, control-plane clients and data planes for a config section.

Credentials come from the section (static keys, a profile, assume-role) or the
default chain; they are handed to botocore and never printed or stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

from toolkit.config import SourceConfig, TargetConfig
from toolkit.config.alternator import ClientSettings
from toolkit.errors import UserError
from toolkit.wire.dataplane import DataPlane
from toolkit.wire.http1 import CONNECT_SECONDS
from toolkit.wire.nodes import LiveNodes
from toolkit.wire.pools import Pools, Reuse
from toolkit.wire.service_errors import translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger("migrator")
Section = SourceConfig | TargetConfig
DEFAULT_LOCAL_REGION = "us-east-1"  # any region signs for a custom endpoint


class FailedRequests(Protocol):
    """Counts the data plane's failed requests: the commands' metrics, when served."""

    def request_failed(self, side: str, operation: str, code: str) -> None: ...


@dataclass
class Connection:
    """Everything needed to talk to one side: source or target."""

    role: str
    section: Section
    session: boto3.Session
    region: str
    failures: FailedRequests | None = None
    _control: DynamoDBClient | None = field(default=None, init=False, repr=False)
    _streams: DynamoDBStreamsClient | None = field(default=None, init=False, repr=False)

    @property
    def where(self) -> str:
        url = self.section.endpoint.url if self.section.endpoint else f"region {self.region}"
        return f"{self.role} {url}"

    def control(self) -> DynamoDBClient:
        # One client per side: making a boto3 client costs 0.1 s of CPU or more.
        if self._control is None:
            self._control = self.session.client("dynamodb", **self._client_options())
        return self._control

    def streams(self) -> DynamoDBStreamsClient:
        if self._streams is None:
            self._streams = self.session.client("dynamodbstreams", **self._client_options())
        return self._streams

    def data_plane(
        self, connections: int, *, streams: bool = False, patience: float = 120.0
    ) -> DataPlane:
        """The data plane; on an Alternator target, spread over the cluster's live nodes."""
        url = (self.streams() if streams else self.control()).meta.endpoint_url
        with translated("GetCredentials", self.where):
            credentials = self.session.get_credentials()
        if credentials is None:
            raise UserError(
                f"no AWS credentials found for the {self.role}: set `credentials` in its "
                "config section, or a profile, or the AWS environment variables"
            )
        ca_bundle = str(self.section.ca_bundle) if self.section.ca_bundle else None
        client = self.section.client
        kept = client.max_connections or connections
        pools = Pools(kept, ca_bundle=ca_bundle, reuse=reuse(client))
        # On Alternator, stream reads spread over the nodes too: any node serves any shard.
        discovery = self.section.nodes
        nodes = LiveNodes(discovery, pools.get, self.role) if discovery else url
        failures, side = self.failures, self.role
        on_failure = None if failures is None else partial(failures.request_failed, side)
        return DataPlane(
            *(nodes, self.region, credentials),
            pools=pools,
            role=side,
            patience=patience,
            on_failure=on_failure,
            compression=client.compression,
        )

    def _client_options(self) -> dict[str, Any]:
        section = self.section
        return {
            "region_name": self.region,
            "endpoint_url": section.endpoint.url if section.endpoint else None,
            "config": Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5),
            **({"verify": str(section.ca_bundle)} if section.ca_bundle else {}),
        }


def reuse(client: ClientSettings) -> Reuse:
    """The Alternator client's connection settings, in seconds; 0 ms: no limit."""

    def seconds(ms: int | None) -> float | None:
        return ms / 1000 if ms else None

    connect = CONNECT_SECONDS if client.connect_ms is None else seconds(client.connect_ms)
    return Reuse(connect, seconds(client.max_idle_ms), seconds(client.time_to_live_ms))


def connect(role: str, section: Section, failures: FailedRequests | None = None) -> Connection:
    credentials = section.credentials
    core = botocore.session.Session(profile=credentials.profile) if credentials.profile else None
    with translated("LoadProfile", role):
        session = boto3.Session(
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            botocore_session=core,
            region_name=section.region,
        )
    endpoint = section.endpoint
    region = section.region or (endpoint.region if endpoint else None) or session.region_name
    if region is None:
        if endpoint is None:
            raise UserError(f"{role}.region is missing: set the AWS region of the {role} table")
        region = DEFAULT_LOCAL_REGION
        log.info(
            "No region is set for the %s (region in its config section): requests to %s are "
            "signed for region %s; set the region if that endpoint expects another",
            *(role, endpoint.url, region),
        )
    if credentials.assume_role is not None:
        _assume_role(session, credentials.assume_role.arn, credentials.assume_role.session_name)
    return Connection(role, section, session, region, failures)


def _assume_role(session: boto3.Session, arn: str, session_name: str | None) -> None:
    core: Any = session._session  # boto3 exposes no public way to set refreshing credentials
    base = session.get_credentials()
    if base is None:
        raise UserError(f"assumeRole {arn} needs base credentials to call STS, and none were found")
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=core.create_client,
        source_credentials=base,
        role_arn=arn,
        extra_args={"RoleSessionName": session_name} if session_name else {},
    )
    core._credentials = DeferredRefreshableCredentials(
        method="assume-role", refresh_using=fetcher.fetch_credentials
    )
