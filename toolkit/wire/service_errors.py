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

from toolkit.errors import ServiceBusy, ServiceError, UserError
from toolkit.logic.error_text import one_line, read_error, short_code

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
# Error codes, and phrases of their messages, that tell the user what to check.
CREDENTIAL_CODES = frozenset(
    {
        *("UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId"),
        *("SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignatureException"),
        *("IncompleteSignature", "MissingAuthenticationToken", "AuthFailure"),
        *("MissingAuthenticationTokenException", "InvalidSecurity"),
    }
)
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"})
PERMISSION_CODES = frozenset({"AccessDenied", "AccessDeniedException"})
CLOCK_CODES = frozenset({"RequestTimeTooSkewed", "RequestExpired", "SignatureExpired"})
CLOCK_PHRASES = ("signature expired", "too skewed", "signature not yet current")
REGION_PHRASES = ("scoped to", "region")


def from_answer(
    status: int, code: str, message: str, operation: str, where: str
) -> ServiceError | ServiceBusy:
    """The error for an HTTP answer that was not a success: one line, with a hint.

    ``code`` and ``message`` may be what botocore made of a body that was not JSON
    (the status as the code, the whole XML or HTML page as the message): both are
    read again here, so the line shows the page's own code and message.
    """
    if code.isdigit() or not code or message.lstrip().startswith("<"):
        found_code, found_message = read_error(message)
        code = code if code and not code.isdigit() else found_code
        message = found_message
    code, message = short_code(code), one_line(message).removeprefix(f"{status} ")
    said = f"{code}: {message}" if code and message else code or message
    text = f"{operation} on {where} failed: HTTP {status}" + (f" {said}" if said else "")
    hint = _hint(status, code, message)
    if hint:
        text += f"; {hint}"
    if status >= 500 or code in TRANSIENT_CODES:
        return ServiceBusy(text, code=code, operation=operation)
    return ServiceError(text, code=code, operation=operation)


def _hint(status: int, code: str, message: str) -> str:
    """What to check for the errors a user can fix: credentials, region, clock, endpoint."""
    said = message.lower()
    if code in CLOCK_CODES or any(phrase in said for phrase in CLOCK_PHRASES):
        return "check this machine's clock: a request signed 5 minutes off or more is refused"
    if code in CREDENTIAL_CODES and any(phrase in said for phrase in REGION_PHRASES):
        return "check the region set for this side (region in its config section)"
    if code in EXPIRED_CODES:
        return "the session token has expired: renew the credentials"
    if code in PERMISSION_CODES:
        return "the credentials are valid but not allowed to do this: check their IAM policy"
    if code in CREDENTIAL_CODES or (status == 403 and not code):
        return (
            "check the credentials of this side (accessKey and secretKey, profile or assumeRole) "
            "and its region"
        )
    if code == "UnknownOperationException" or status in (404, 405):
        return "check the endpoint: it does not answer DynamoDB's API there (host, port and path)"
    return ""


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
        text = f"{operation} on {where} failed: {one_line(str(error))}"
        raise ServiceError(text, operation=operation) from None
