"""The log's two shapes: the Scylla Migrator's text lines (the default), or JSON lines.

With ``--log-format json`` every log line is one JSON object: time (UTC, ISO 8601),
level, logger, message, and the fields the line was logged with (``extra=``:
table, segment, shard, counts), so a log pipeline reads them without parsing
text. The tables of operations are not log lines: they stay on stdout.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson
from rich.console import Console

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEXT_DATES = "%y/%m/%d %H:%M:%S"  # the Migrator's: 26/12/01 09:41:02
_current = ["text"]  # the shape configured last, for what is printed outside the log
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


# The table whose pipeline logs on this thread, in a run of several tables: its lines
# name it (text: a "[table] " prefix; JSON: a table field).
TABLE: contextvars.ContextVar[str | None] = contextvars.ContextVar("table", default=None)


class TableNamed(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        table = TABLE.get()
        if table is not None and not getattr(record, "table_named", False):
            record.table_named = True  # once, whichever handler sees the record first
            if is_json():
                record.__dict__.setdefault("table", table)
            else:
                record.msg = f"[{table}] {record.msg}"
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(
            (k, v) for k, v in vars(record).items() if k not in _STANDARD and k != "table_named"
        )
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(log_format: str = "text") -> None:
    """One handler on stderr for the whole process, in the chosen shape."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter(TEXT, TEXT_DATES))
    handler.addFilter(TableNamed())
    _current[0] = log_format
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)  # a library's warning is a log line too, in the same shape
    for noisy in ("botocore", "boto3", "urllib3", "py4j"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def is_json() -> bool:
    return _current[0] == "json"


def display_console() -> Console:
    """The console of the live displays on stderr: silent when the log is JSON lines,
    so that every line on stderr is one JSON object."""
    return Console(stderr=True, quiet=is_json())


def error_line(message: str) -> str:
    """The CLI's one error line, in the log's shape."""
    if not is_json():
        return f"error: {message}"
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    line = {"time": now, "level": "ERROR", "logger": "toolkit", "message": f"error: {message}"}
    return orjson.dumps(line).decode()
