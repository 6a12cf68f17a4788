"""A server's error answer becomes one short line, whatever its body holds."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from toolkit.errors import ServiceBusy, ServiceError
from toolkit.logic.error_text import MESSAGE_CHARS, one_line, read_error
from toolkit.wire.service_errors import from_answer

SIGNATURE_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match
  the signature you provided. Check your key and signing method.</Message>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>"""
ERROR_RESPONSE_XML = b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
<Message>The security token included in the request is invalid.</Message></Error>
</ErrorResponse>"""
HTML_500 = b"""<!DOCTYPE html>
<html><head><title>500 Internal Server Error</title>
<style>body { color: red }</style></head>
<body><h1>Internal Server Error</h1>
<p>The server encountered an internal error.</p></body></html>"""
WHERE = "target http://127.0.0.1:8001"


@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_any_body_is_one_short_line(body: bytes) -> None:
    code, message = read_error(body)
    for part in (code, message):
        assert "\n" not in part and "\r" not in part
    assert len(message) <= MESSAGE_CHARS


@given(st.text(max_size=500))
def test_one_line_keeps_the_words_in_order(text: str) -> None:
    line = one_line(text, limit=10_000)
    assert line.split() == text.split()


def test_an_xml_error_document_gives_its_code_and_message() -> None:
    code, message = read_error(SIGNATURE_XML)
    assert code == "SignatureDoesNotMatch"
    assert message.startswith("The request signature we calculated does not match the signature")
    assert read_error(ERROR_RESPONSE_XML) == (
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    )


def test_an_html_page_gives_its_title() -> None:
    assert read_error(HTML_500) == ("", "500 Internal Server Error")
    untitled = b"<html><body><script>x()</script><p>Bad\n gateway</p></body></html>"
    assert read_error(untitled) == ("", "Bad gateway")


def test_dynamodb_json_gives_the_short_code() -> None:
    body = {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "message": "x"}
    assert read_error(orjson.dumps(body)) == ("ResourceNotFoundException", "x")


def test_what_botocore_made_of_a_page_is_read_again() -> None:
    """botocore gives the status as the code and the whole page as the message."""
    error = from_answer(403, "403", SIGNATURE_XML.decode(), "DescribeTable", WHERE)
    line = str(error)
    assert isinstance(error, ServiceError) and "\n" not in line
    assert line.startswith(f"DescribeTable on {WHERE} failed: HTTP 403 SignatureDoesNotMatch: ")
    assert "check the credentials of this side" in line


def test_hints_tell_credentials_region_and_clock_apart() -> None:
    def hint(code: str, message: str, status: int = 400) -> str:
        return str(from_answer(status, code, message, "Scan", WHERE)).split("; ", 1)[-1]

    region = "Credential should be scoped to a valid region, not 'xx-east-1'."
    assert "region" in hint("InvalidSignatureException", region)
    clock = "Signature expired: 20261201T000000Z is now earlier than 20261201T001000Z"
    assert "clock" in hint("InvalidSignatureException", clock)
    assert "credentials" in hint("UnrecognizedClientException", "The security token is invalid")
    assert "IAM policy" in hint("AccessDeniedException", "not authorized")
    assert "endpoint" in hint("", "Not Found", status=404)
    assert "; " not in str(from_answer(400, "ValidationException", "bad", "Scan", WHERE))


def test_a_5xx_page_is_worth_retrying() -> None:
    error = from_answer(500, "500", HTML_500.decode(), "Scan", WHERE)
    assert isinstance(error, ServiceBusy)
    assert str(error) == f"Scan on {WHERE} failed: HTTP 500 Internal Server Error"
