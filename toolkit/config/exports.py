"""Where a `type: dynamodb-s3-export` section reads its export from, or writes it to.

Typed, as toolkit/config/s3.py reads them; apart from it so that the run's model
(toolkit/config/model.py) names them without importing the reading, which imports
the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.config.endpoint import Endpoint


@dataclass(frozen=True)
class S3Access:
    region: str | None
    endpoint: Endpoint | None
    path_style: bool  # usePathStyleAccess: bucket in the path, as local S3 servers need


@dataclass(frozen=True)
class ExportSource:
    bucket: str
    manifest_keys: tuple[str, ...]  # manifest-summary.json keys: FULL first after sorting
    description: dict[str, Any]  # tableDescription as DescribeTable's shape
    s3: S3Access


@dataclass(frozen=True)
class ExportTarget:
    bucket: str | None  # None: a local folder
    prefix: str  # the key prefix in the bucket, or the local folder
    s3: S3Access
