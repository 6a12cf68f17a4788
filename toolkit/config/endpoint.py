"""A server address in the config: ``endpoint: {host, port}`` and Alternator seeds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from toolkit.config import limits
from toolkit.config.reader import Node

_EXAMPLE = "a server address like http://scylla, 127.0.0.1 or [::1]"
# DynamoDB's and DynamoDB Streams' regional hosts, FIPS and China's included.
_AWS_HOST = re.compile(
    r"(?:^|\.)(?:streams\.)?dynamodb(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$"
)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int | None

    @property
    def url(self) -> str:
        """The URL to send requests to; a host without a scheme gets http:// (https:// on 443)."""
        base = self.host.rstrip("/")
        if "://" not in base:
            base = ("https://" if self.port == 443 else "http://") + base
        return base if self.port is None else f"{base}:{self.port}"

    @property
    def https(self) -> bool:
        return self.url.startswith("https://")

    @property
    def region(self) -> str | None:
        """The AWS region an AWS endpoint names (dynamodb.eu-west-1.amazonaws.com), else None."""
        found = _AWS_HOST.search(urlsplit(self.url).hostname or "")
        return found.group(1) if found else None


def read_endpoint(node: Node | None) -> Endpoint | None:
    if node is None:
        return None
    node.only(("host", "port"))
    host = node.text("host") or node.fail("host", "is missing", "write e.g. host: http://scylla")
    port = node.integer("port", limits.PORT)
    if check_host(node, "host", host) and port is not None:
        node.fail("port", "is given twice (endpoint.host has a port too)", "keep only one")
    return Endpoint(host, port)


def check_host(node: Node, key: str, host: str) -> bool:
    """Refuse anything but a scheme, a host and a port; return whether it has a port."""
    if re.search(r"\s", host):
        node.wrong(key, host, "a server address without spaces")
    try:
        parts = urlsplit(host if "://" in host else f"http://{host}")
        has_port = parts.port is not None
    except ValueError:
        node.wrong(key, host, _EXAMPLE)
    bare_ipv6 = "[" not in parts.netloc and ":" in (parts.hostname or "")
    extra = (parts.path.strip("/"), parts.query, parts.fragment, parts.username)
    if parts.scheme not in ("http", "https") or not parts.hostname or bare_ipv6 or any(extra):
        node.wrong(key, host, _EXAMPLE)
    return has_port


def read_seed(node: Node, key: str, value: object, endpoint: Endpoint) -> str:
    """A seed's URL; without a scheme or a port it takes the endpoint's."""
    if not isinstance(value, str) or not value.strip():
        node.wrong(key, value, "a host name or address, like scylla-2 or 10.0.0.2")
    host = value.strip()
    has_port = check_host(node, key, host)
    if "://" not in host:
        host = ("https://" if endpoint.https else "http://") + host
    return Endpoint(host, None if has_port else endpoint.port).url
