"""How the toolkit reaches one side: its credentials and the CA certificates it trusts.

Both are read the same way for every type of section (DynamoDB, Alternator, an S3
export), and checked before any connection is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from toolkit.config.reader import Node

REDACTED = "<redacted>"


@dataclass(frozen=True)
class AssumeRole:
    arn: str
    session_name: str | None


@dataclass(frozen=True, repr=False)
class Credentials:
    access_key: str | None
    secret_key: str | None
    profile: str | None
    assume_role: AssumeRole | None  # all four None: boto3's default credential chain

    def __repr__(self) -> str:
        # Keys are shown only as set or unset, so logging a config never leaks them.
        hidden = [None if v is None else REDACTED for v in (self.access_key, self.secret_key)]
        return (
            f"Credentials(access_key={hidden[0]}, secret_key={hidden[1]}, "
            f"profile={self.profile!r}, assume_role={self.assume_role!r})"
        )


def read_credentials(node: Node | None) -> Credentials:
    if node is None:
        return Credentials(None, None, None, None)
    node.only(("accessKey", "secretKey", "profile", "assumeRole"))
    access, secret = node.text("accessKey"), node.text("secretKey")
    for key, have, other in (("secretKey", access, secret), ("accessKey", secret, access)):
        if have and not other:
            node.fail(key, "is missing", "give accessKey and secretKey together, or neither")
        if other == REDACTED:
            node.fail(key, "is redacted (a Migrator savepoint?)", "use the original config file")
    profile = node.text("profile")
    if profile and access:
        node.fail("profile", "is set together with accessKey", "keep either the profile or keys")
    return Credentials(access, secret, profile, _assume_role(node.section("assumeRole")))


def _assume_role(node: Node | None) -> AssumeRole | None:
    if node is None:
        return None
    node.only(("arn", "sessionName"))
    arn = node.text("arn") or node.fail("arn", "is missing", "give the ARN of the role to assume")
    return AssumeRole(arn, node.text("sessionName"))


def read_ca_bundle(node: Node) -> Path | None:
    """A readable file of PEM certificates; checked here, before any connection."""
    name = node.text("caBundle")
    if name is None:
        return None
    path = Path(name).expanduser()
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        node.fail("caBundle", f"cannot be read ({name}: {reason})", "give a PEM file's path")
    if b"-----BEGIN CERTIFICATE-----" not in head:
        node.fail("caBundle", f"holds no PEM certificate ({name})", "give a PEM file's path")
    return path
