"""Spring Boot samples written from its docs: default layouts of Boot 2.x, 3.0, 3.2+."""

from __future__ import annotations

import json

from collector.parse import PARSE_ERROR_KEY
from tests.parse.helpers import ns, parse

BOOT3_STARTUP = [
    "  .   ____          _            __ _ _",
    " :: Spring Boot ::                (v3.3.4)",
    "2026-11-26T11:13:44.345Z  INFO 1 --- [payments] [           main] "
    "c.e.payments.PaymentsApplication         : Starting PaymentsApplication v1.4.2 using "
    "Java 21.0.4 with PID 1 (/app/payments.jar started by app in /app)",
    "2026-11-26T11:13:44.351Z  INFO 1 --- [payments] [           main] "
    'c.e.payments.PaymentsApplication         : The following 1 profile is active: "prod"',
    "2026-11-26T11:13:46.112Z  INFO 1 --- [payments] [           main] "
    "o.s.b.w.embedded.tomcat.TomcatWebServer  : Tomcat initialized with port 8080 (http)",
    "2026-11-26T11:13:46.870Z  WARN 1 --- [payments] [           main] "
    "ConfigServletWebServerApplicationContext : Exception encountered during context "
    "initialization - cancelling refresh attempt",
]

# One exception as the tailer's `java` multiline mode hands it over: one line, "\n" inside.
FAILED_RUN = "\n".join(
    [
        "2026-11-26T11:13:46.901Z ERROR 1 --- [payments] [           main] "
        "o.s.boot.SpringApplication               : Application run failed",
        "org.springframework.beans.factory.BeanCreationException: Error creating bean with "
        "name 'ledgerClient': Failed to instantiate [com.example.payments.LedgerClient]",
        "\tat org.springframework.beans.factory.support.AbstractAutowireCapableBeanFactory"
        ".createBean(AbstractAutowireCapableBeanFactory.java:1806)",
        "\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:335)",
        "Caused by: java.lang.IllegalStateException: ledger endpoint unreachable",
        "\tat com.example.payments.LedgerClient.<init>(LedgerClient.java:42)",
        "\t... 19 common frames omitted",
        "Caused by: java.net.ConnectException: Connection refused",
        "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)",
        "\t... 23 common frames omitted",
    ]
)


def test_boot3_startup_log() -> None:
    lines = [line.encode() for line in [*BOOT3_STARTUP, FAILED_RUN]]
    result = parse("spring", lines)
    assert len(result.records) == len(lines)
    banner1, banner2, start, profile, tomcat, warn, failed = result.records
    assert banner1[PARSE_ERROR_KEY] == "no_match" and banner1["message"] == BOOT3_STARTUP[0]
    assert banner2[PARSE_ERROR_KEY] == "no_match"
    assert start == {
        "time": "2026-11-26T11:13:44.345Z",
        "level": "INFO",
        "pid": 1,
        "app": "payments",
        "thread": "main",
        "logger": "c.e.payments.PaymentsApplication",
        "message": "Starting PaymentsApplication v1.4.2 using Java 21.0.4 with PID 1 "
        "(/app/payments.jar started by app in /app)",
    }
    assert profile["message"] == 'The following 1 profile is active: "prod"'
    assert tomcat["logger"] == "o.s.b.w.embedded.tomcat.TomcatWebServer"
    assert warn["level"] == "WARN"
    assert warn["logger"] == "ConfigServletWebServerApplicationContext"
    assert failed["level"] == "ERROR"
    assert failed["message"] == "Application run failed"
    trace = failed["stack_trace"]
    assert trace.startswith("org.springframework.beans.factory.BeanCreationException:")
    assert trace.count("Caused by: ") == 2
    assert trace.endswith("\t... 23 common frames omitted")
    assert FAILED_RUN.endswith(trace)  # nothing dropped, nothing added
    assert result.errors == {"no_match": 2}
    assert result.times is not None
    assert result.times[:3] == [0, 0, ns("2026-11-26T11:13:44.345Z")]
    assert result.times[-1] == ns("2026-11-26T11:13:46.901Z")


def test_boot2_layout_without_zone_uses_the_timezone_option() -> None:
    line = (
        b"2026-11-26 12:13:44.345  INFO 4242 --- [nio-8080-exec-1] "
        b"c.e.payments.PaymentController          : captured pay_123 in 14 ms"
    )
    result = parse("spring", [line], timezone="Europe/Berlin")
    assert result.records == [
        {
            "time": "2026-11-26 12:13:44.345",
            "level": "INFO",
            "pid": 4242,
            "thread": "nio-8080-exec-1",
            "logger": "c.e.payments.PaymentController",
            "message": "captured pay_123 in 14 ms",
        }
    ]
    assert result.times == [ns("2026-11-26T11:13:44.345Z")]


def test_boot32_correlation_ids_with_and_without_app_name() -> None:
    with_app = (
        b"2026-11-26T11:13:44.345+01:00 DEBUG 7 --- [payments] [nio-8080-exec-3] "
        b"[4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.p.Capture : captured"
    )
    without_app = (
        b"2026-11-26T11:13:44.345Z  INFO 7 --- [nio-8080-exec-3] "
        b"[4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.p.Capture : captured"
    )
    blank = (
        b"2026-11-26T11:13:44.345Z  INFO 7 --- [payments] [           main] "
        b"[                                                 ] c.e.p.App : started"
    )
    a, b, c = parse("spring", [with_app, without_app, blank]).records
    assert a["app"] == "payments" and a["thread"] == "nio-8080-exec-3"
    assert a["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert a["span_id"] == "00f067aa0ba902b7"
    assert (
        "app" not in b and b["thread"] == "nio-8080-exec-3" and b["span_id"] == "00f067aa0ba902b7"
    )
    assert c["app"] == "payments" and c["thread"] == "main" and "trace_id" not in c
    assert c["message"] == "started"


def test_continuation_lines_without_frames_stay_in_the_message() -> None:
    line = (
        b"2026-11-26T11:13:44.345Z  INFO 1 --- [main] c.e.p.Config : effective config:\n"
        b"  ledger.url: http://ledger\n  ledger.timeout: 2s"
    )
    (record,) = parse("spring", [line]).records
    assert (
        record["message"] == "effective config:\n  ledger.url: http://ledger\n  ledger.timeout: 2s"
    )
    assert "stack_trace" not in record


def test_logstash_encoder_json_maps_to_the_same_names() -> None:
    event = {
        "@timestamp": "2026-11-26T11:13:46.901Z",
        "@version": "1",
        "message": "Application run failed",
        "logger_name": "org.springframework.boot.SpringApplication",
        "thread_name": "main",
        "level": "ERROR",
        "level_value": 40000,
        "stack_trace": "java.lang.IllegalStateException: boom\n\tat x.Y.z(Y.java:1)\n",
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
    }
    result = parse("spring", [json.dumps(event).encode()])
    (record,) = result.records
    assert record["time"] == "2026-11-26T11:13:46.901Z"
    assert record["logger"] == "org.springframework.boot.SpringApplication"
    assert record["thread"] == "main"
    assert record["level"] == "ERROR" and record["level_value"] == 40000
    assert record["stack_trace"].startswith("java.lang.IllegalStateException")
    assert record["traceId"] == event["traceId"] and record["@version"] == "1"
    assert not {"@timestamp", "logger_name", "thread_name"} & record.keys()
    assert result.times == [ns("2026-11-26T11:13:46.901Z")]


def test_boot34_structured_ecs_flat_names() -> None:
    event = {
        "@timestamp": "2026-11-26T11:13:46.901Z",
        "log.level": "INFO",
        "process.pid": 1,
        "process.thread.name": "main",
        "service.name": "payments",
        "log.logger": "c.e.p.App",
        "message": "started",
        "ecs.version": "8.11",
    }
    (record,) = parse("spring", [json.dumps(event).encode()]).records
    assert {k: record[k] for k in ("time", "level", "pid", "thread", "app", "logger")} == {
        "time": "2026-11-26T11:13:46.901Z",
        "level": "INFO",
        "pid": 1,
        "thread": "main",
        "app": "payments",
        "logger": "c.e.p.App",
    }


def test_malformed_spring_lines() -> None:
    lines = [
        b"\tat com.example.Orphan.frame(Orphan.java:1)",
        b"2026-11-26T11:13:44.345Z  INFO no pid and no separator",
        b'{"@timestamp": "broken json',
        b"\xff\xfe binary \x00 junk",
    ]
    result = parse("spring", lines)
    assert [r[PARSE_ERROR_KEY] for r in result.records] == [
        "no_match",
        "no_match",
        "invalid_json",
        "no_match",
    ]
    assert result.records[3]["message"] == "\ufffd\ufffd binary \x00 junk"
    assert result.errors == {"no_match": 3, "invalid_json": 1}


def test_log4j2_layout_without_padding() -> None:
    line = b"2026-11-26T11:13:44.345Z ERROR 7 --- [main] com.example.App: failed: ledger down"
    (record,) = parse("spring", [line]).records
    assert record["thread"] == "main" and record["logger"] == "com.example.App"
    assert record["message"] == "failed: ledger down"
