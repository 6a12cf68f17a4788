"""Move a live DynamoDB table into ScyllaDB Alternator, and prove nothing was lost."""

from __future__ import annotations

__version__ = "0.1.0"
