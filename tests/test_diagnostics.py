"""The collector's own log lines: one JSON document each, readable by the scrub."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import diagnostics
from collector.redact import Redactor
from collector.redact.config import RedactConfig
from tests.support.cards import count_pans
from tests.tail.helpers import TEST_CARD


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    diagnostics.configure("info", scrub=Redactor(RedactConfig()).redact_text, stream=buf)
    yield buf
    root.handlers[:], level = saved
    root.setLevel(level)


def test_extras_of_any_type_become_json(stream: io.StringIO) -> None:
    logging.getLogger("collector.test").info(
        "hello", extra={"path": Path("/a/b"), "count": 2**70, "ratio": 0.5}
    )
    doc = json.loads(stream.getvalue())
    assert doc["msg"] == "hello" and doc["logger"] == "collector.test"
    assert doc["path"] == "/a/b" and doc["count"] == 2**70 and doc["ratio"] == 0.5


def test_bytes_are_written_as_text_the_scrub_can_read(stream: io.StringIO) -> None:
    # base64 (msgspec's way with bytes) would hide a card number from the redactor.
    logging.getLogger("collector.test").warning("peer said", extra={"reply": TEST_CARD.encode()})
    line = stream.getvalue()
    assert count_pans(line) == 0, "a card number reached our own log"
    reply = json.loads(line)["reply"]
    assert reply.startswith("b'") and TEST_CARD[-4:] in reply, "not the bytes' text, masked"
