"""What a server's error answer says, as one short line: pure, no I/O.

DynamoDB answers errors in JSON (``__type``, ``message``), but a proxy, a load
balancer or a server in front of it may answer an XML error document (S3-style
``<Error><Code>``, or ``<ErrorResponse>``) or an HTML page. Whatever the body,
the user gets one line: the error code and message when the body has them, else
the page's title or its text, whitespace collapsed and cut short.
"""

from __future__ import annotations

import html
import re

import orjson

MESSAGE_CHARS = 200  # the most of a server's message shown in one line

_TAG = re.compile(r"<[^>]*>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def one_line(text: str, limit: int = MESSAGE_CHARS) -> str:
    """Whitespace (newlines included) collapsed to single spaces, cut at ``limit``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def short_code(raw: str) -> str:
    """'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException' -> the last part."""
    return raw.split(":", 1)[0].rsplit("#", 1)[-1].strip()


def read_error(body: bytes | str) -> tuple[str, str]:
    """The (code, message) an error body carries; either may be empty."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if not stripped:
        return "", ""
    if stripped.startswith("{"):
        return _json_error(stripped)
    if stripped.startswith("<"):
        return _markup_error(stripped)
    return "", one_line(stripped)


def _json_error(text: str) -> tuple[str, str]:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return "", one_line(text)
    if not isinstance(data, dict):
        return "", one_line(text)
    code = data.get("__type") or data.get("code") or data.get("Code") or ""
    message = data.get("message") or data.get("Message") or ""
    return short_code(str(code)), one_line(str(message))


def _markup_error(text: str) -> tuple[str, str]:
    code, message = _element(text, "Code"), _element(text, "Message")
    if code or message:
        return short_code(code), one_line(message)
    title = _TITLE.search(text)
    if title is not None and _plain(title.group(1)):
        return "", one_line(_plain(title.group(1)))
    return "", one_line(_plain(_SCRIPT.sub(" ", text)))


def _element(text: str, name: str) -> str:
    """The text of the first <name> element (namespaces allowed), or ''."""
    found = re.search(rf"<(?:\w+:)?{name}\b[^>]*>(.*?)</(?:\w+:)?{name}\s*>", text, re.DOTALL)
    return _plain(found.group(1)) if found else ""


def _plain(markup: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())
