"""Translate what servers and libraries raise into the toolkit's error tree.

This is the one place that decides whether a failed request is worth retrying,
for the data plane (raw HTTP answers) and the control plane (botocore) alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.exceptions import (
    SSLError as BotoSSLError,
)

from toolkit.errors import ServiceBusy, ServiceError, ToolkitError, UserError

# Error codes after which the same request may succeed if sent again later.
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionInProgressException",
    }
)


def from_answer(status: int, code: str, message: str, operation: str, where: str) -> ToolkitError:
    """The error for an HTTP answer that was not a success."""
    text = f"{operation} on {where} failed: {code or f'HTTP {status}'}: {message}".rstrip(": ")
    if status >= 500 or code in TRANSIENT_CODES:
        return ServiceBusy(text, code=code, operation=operation)
    return ServiceError(text, code=code, operation=operation)


def connection_failed(reason: object, operation: str, where: str) -> ServiceBusy:
    return ServiceBusy(
        f"{operation}: cannot reach {where} ({reason})", code="ConnectionError", operation=operation
    )


def tls_failed(reason: object, operation: str, where: str) -> UserError:
    """A TLS handshake that failed: the same request can only fail the same way."""
    return UserError(
        f"{operation}: TLS with {where} failed ({reason}); check the endpoint's scheme and "
        "port, or set caBundle in its config section to the PEM file of the server's CA"
    )


def code_of(body: dict[str, object]) -> str:
    """'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException' -> the last part."""
    raw = str(body.get("__type", ""))
    return raw.rsplit("#", 1)[-1]


@contextmanager
def translated(operation: str, where: str) -> Iterator[None]:
    """Turn botocore's exceptions raised inside the block into the toolkit's tree."""
    try:
        yield
    except ClientError as error:
        info = error.response.get("Error", {})
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400))
        raise from_answer(
            status, info.get("Code", ""), info.get("Message", ""), operation, where
        ) from None
    except BotoSSLError as error:
        raise tls_failed(error, operation, where) from None
    except (EndpointConnectionError, BotoConnectionError) as error:
        raise connection_failed(error, operation, where) from None
    except NoCredentialsError:
        raise UserError(
            f"no AWS credentials found for {where}: set credentials in the config, "
            "a profile, or the usual AWS environment variables"
        ) from None
    except NoRegionError:
        raise UserError(f"no region for {where}: set `region` in the config section") from None
    except BotoCoreError as error:
        raise ServiceError(f"{operation} on {where} failed: {error}", operation=operation) from None
