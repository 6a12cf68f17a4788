"""The cached signer signs exactly what botocore's SigV4Auth signs, for any request."""

from __future__ import annotations

import datetime
from unittest.mock import patch
from urllib.parse import urlsplit

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from hypothesis import given
from hypothesis import strategies as st

from toolkit.wire.http1 import host_of
from toolkit.wire.sigv4 import Signer, canonical_path

KEY_TEXT = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
URLS = st.sampled_from(
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000/",
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://DynamoDB.EU-West-1.amazonaws.com:443/",
        "http://node-1:80",
        "https://[::1]:8043",
        "http://10.0.0.7:8000/alternator/./a/../b//c/",
        "http://10.0.0.7:8000/with space/~tilde",
    ]
)
# Header values are signed with their spaces trimmed and squeezed (the token is the one
# value that comes from outside).
TOKENS = KEY_TEXT | st.lists(st.sampled_from(["a", "B7", " ", "  "]), min_size=1).map("".join)
TIMES = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)
)


def botocore_headers(
    url: str,
    target: str,
    body: bytes,
    secret: ReadOnlyCredentials,
    region: str,
    when: datetime.datetime,
) -> dict[str, str]:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target},
    )
    credentials = Credentials(str(secret.access_key), str(secret.secret_key), secret.token)
    with patch("botocore.auth.get_current_datetime", lambda: when):
        botocore.auth.SigV4Auth(credentials, "dynamodb", region).add_auth(request)
    return dict(request.headers.items())


@given(
    url=URLS,
    operation=st.sampled_from(["Scan", "BatchWriteItem", "GetRecords"]),
    body=st.binary(max_size=300),
    access_key=KEY_TEXT,
    secret_key=KEY_TEXT,
    token=st.none() | TOKENS,
    region=st.sampled_from(["us-east-1", "eu-west-1", "local"]),
    when=TIMES,
)
def test_signs_what_botocore_signs(
    url: str,
    operation: str,
    body: bytes,
    access_key: str,
    secret_key: str,
    token: str | None,
    region: str,
    when: datetime.datetime,
) -> None:
    secret = ReadOnlyCredentials(access_key, secret_key, token)
    target = f"DynamoDB_20120810.{operation}"
    expected = botocore_headers(url, target, body, secret, region, when)
    epoch = when.replace(tzinfo=datetime.UTC).timestamp()
    path = canonical_path(urlsplit(url).path)
    ours = Signer(region).headers(host_of(url), path, target, body, secret, epoch)
    assert ours.pop("Host") == getattr(botocore.auth, "_host_from_url")(url)  # noqa: B009
    assert ours == expected


def test_the_signing_key_follows_the_day_and_the_secret() -> None:
    signer = Signer("us-east-1")  # one signer: its cached key must never be stale
    last_second = datetime.datetime(2026, 11, 30, 23, 59, 59, tzinfo=datetime.UTC)
    for when in (last_second, last_second + datetime.timedelta(seconds=1)):
        for secret_key in ("one", "one", "two", "one"):
            secret = ReadOnlyCredentials("AK", secret_key, None)
            ours = signer.headers("h:1", "/", "T.X", b"{}", secret, when.timestamp())
            naive = when.replace(tzinfo=None)
            assert (
                ours["Authorization"]
                == botocore_headers("http://h:1", "T.X", b"{}", secret, "us-east-1", naive)[
                    "Authorization"
                ]
            )


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("", "/"),
        ("/", "/"),
        ("/a/./b/../c//d/", "/a/c/d/"),
        ("/../..", "/"),
        ("/with space/~x", "/with%20space/~x"),
    ],
)
def test_canonical_path(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


def test_one_signer_signs_each_shape_as_its_own_within_a_second() -> None:
    """What a shape shares is kept per second: another target, host, token or key in
    the same second is never signed with a kept shape that is not its own."""
    signer = Signer("us-east-1")
    when = datetime.datetime(2026, 12, 1, 18, 0, 0, 250000, tzinfo=datetime.UTC)
    shapes = [
        ("http://h:1", "DynamoDB_20120810.GetRecords", ReadOnlyCredentials("AK", "s", None)),
        ("http://h:1", "DynamoDB_20120810.GetShardIterator", ReadOnlyCredentials("AK", "s", None)),
        ("http://h:2", "DynamoDB_20120810.GetRecords", ReadOnlyCredentials("AK", "s", None)),
        ("http://h:1", "DynamoDB_20120810.GetRecords", ReadOnlyCredentials("AK", "s", "t1")),
        ("http://h:1", "DynamoDB_20120810.GetRecords", ReadOnlyCredentials("AK2", "s", "t1")),
    ]
    for url, target, secret in shapes * 2:
        ours = signer.headers(host_of(url), "/", target, b"{}", secret, when.timestamp())
        ours.pop("Host")
        assert ours == botocore_headers(url, target, b"{}", secret, "us-east-1", when)
