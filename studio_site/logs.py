"""Structured logs: one JSON object per line, per event.

Every record carries time, level, logger and message; ids passed as `extra`
(take_id, project_id, export_id, task_id, …) become fields of their own, so a
log search can follow one take through web, worker and provider. uvicorn's
access log lines become method/path/status fields.

LOG_FORMAT=text gives the same fields as `key=value` for a person at a terminal.
"""

from __future__ import annotations

import json
import logging
import time

# Attributes every LogRecord has; anything else was passed in `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}


def event_fields(record: logging.LogRecord) -> dict:
    fields: dict[str, object] = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
        "level": record.levelname.lower(),
        "logger": record.name,
    }
    if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
        client, method, path, http_version, status = record.args
        fields.update(event="request", client=client, method=method, path=path, status=status)
    else:
        fields["message"] = record.getMessage()
    for key, value in vars(record).items():
        if key not in _STANDARD and not key.startswith("_"):
            fields[key] = value
    if record.exc_info:
        fields["exception"] = logging.Formatter().formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(event_fields(record), default=str, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """The same fields for a terminal: `time level logger message key=value …` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = event_fields(record)
        head = f"{fields.pop('time')} {fields.pop('level'):<7} {fields.pop('logger')}"
        message = fields.pop("message", "")
        exception = fields.pop("exception", "")
        rest = " ".join(f"{key}={json.dumps(value, default=str, ensure_ascii=False)}" for key, value in fields.items())
        line = " ".join(part for part in (head, message, rest) if part)
        # An exception stays on the event's line: its newlines are escaped.
        return line + (" exception=" + json.dumps(exception) if exception else "")

