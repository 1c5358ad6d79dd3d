"""The collector's own logs: JSON lines on stderr, passed through the redactor.

Our messages carry paths, servers and counts, never record content; the last-line
redaction pass is there so that even an exception text quoting a line cannot put a card
number into the pod's logs.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import msgspec

# msgspec, which the pipeline already uses for JSON: orjson here alone cost ~0.4 MiB of
# RSS (it imports uuid, platform and dataclasses at start-up; docs/decisions.md).
_encoder = msgspec.json.Encoder(enc_hook=str)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, scrub: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                # bytes as their repr, as text the scrub below can read (msgspec would
                # write base64, which no redactor sees through)
                doc[key] = repr(value) if isinstance(value, (bytes, bytearray)) else value
        if record.exc_info and record.exc_info[0] is not None:
            doc["error_type"] = record.exc_info[0].__name__
            doc["traceback"] = self.formatException(record.exc_info)
        line = _encoder.encode(doc).decode()
        return self.scrub(line) if self.scrub is not None else line


def configure(
    level: str = "info", scrub: Callable[[str], str] | None = None, stream: TextIO | None = None
) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(scrub))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("asyncio").setLevel(logging.WARNING)
