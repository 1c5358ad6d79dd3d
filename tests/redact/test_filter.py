"""`collector redact`: JSON lines stay JSON, other lines are text."""

from __future__ import annotations

import io

from collector.redact import Redactor
from collector.redact.config import RedactConfig
from collector.redact.filter import redact_stream
from tests.redact.support import leaks

PAN = "4111111111111111"


def test_stream_keeps_order_big_ints_and_line_ends() -> None:
    src = (
        b'{"z":1,"big":123456789012345678901234567890,"m":"card ' + PAN.encode() + b'","a":2}\n'
        b"plain text " + PAN.encode() + b"\r\n"
        b'{"untouched": "yes",   "spacing": 1}\n'
        b"[1,2]\n"
        b"last line without newline cvv=123"
    )
    out = io.BytesIO()
    n = redact_stream(Redactor(RedactConfig()), io.BytesIO(src), out)
    lines = out.getvalue().split(b"\n")
    assert n == 5
    assert (
        lines[0]
        == b'{"z":1,"big":123456789012345678901234567890,"m":"card 411111******1111","a":2}'
    )
    assert lines[1] == b"plain text 411111******1111\r"
    assert lines[2] == b'{"untouched": "yes",   "spacing": 1}'
    assert lines[3] == b"[1,2]"
    assert lines[4] == b"last line without newline cvv=[REDACTED]"
    assert not leaks(out.getvalue().decode(), [PAN])


def test_broken_json_is_redacted_as_text() -> None:
    out = io.BytesIO()
    redact_stream(Redactor(RedactConfig()), io.BytesIO(b'{"m":"' + PAN.encode() + b'"\n'), out)
    assert out.getvalue() == b'{"m":"411111******1111"\n'
