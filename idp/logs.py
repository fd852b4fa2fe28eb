"""Structured logging that never blocks the event loop.

Log lines are JSON objects: the event name and its fields. Records go through a queue to a
thread that writes them, so a slow terminal or disk never stalls a request.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys

__all__ = ["configure_logging"]

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, event and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(level: str) -> None:
    """Send every record of the process through a queue to a JSON writer on stderr."""
    root = logging.getLogger()
    if any(isinstance(h, logging.handlers.QueueHandler) for h in root.handlers):
        root.setLevel(level.upper())
        return
    records: queue.Queue[logging.LogRecord] = queue.Queue(-1)
    writer = logging.StreamHandler(sys.stderr)
    writer.setFormatter(JsonFormatter())
    listener = logging.handlers.QueueListener(records, writer, respect_handler_level=True)
    listener.start()
    atexit.register(listener.stop)
    root.handlers = [logging.handlers.QueueHandler(records)]
    root.setLevel(level.upper())
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.getLogger("saml2").setLevel(logging.WARNING)
