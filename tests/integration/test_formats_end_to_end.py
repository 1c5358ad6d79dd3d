"""Issue 7's end-to-end path: a Spring Boot log with stack traces and an Envoy access log
with a card number in a query string, through the real FluentServer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cards import count_pans
from tests.support.collector import DELIVERY_TIMEOUT, CollectorProcess, write_config
from tools.receiver import FluentReceiver

pytestmark = pytest.mark.integration

# Spring Boot's default layout writes long lines; this sample is kept verbatim.
SPRING = """\
2026-11-26T10:15:30.123+00:00  INFO 4242 --- [payment-api] [           main] c.a.pay.PaymentApplication               : Started PaymentApplication in 3.2 seconds
2026-11-26T10:15:31.001+00:00 ERROR 4242 --- [payment-api] [nio-8080-exec-1] o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() threw exception
org.springframework.web.util.NestedServletException: Request processing failed
\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)
\tat org.springframework.web.servlet.FrameworkServlet.doPost(FrameworkServlet.java:909)
Caused by: java.lang.IllegalStateException: acquirer timeout
\tat com.acme.pay.gateway.AcquirerClient.authorise(AcquirerClient.java:142)
\t... 42 more
2026-11-26T10:15:32.500+00:00  WARN 4242 --- [payment-api] [nio-8080-exec-2] c.a.pay.AuthorisationService             : retrying authorisation
"""  # noqa: E501

PAN = "5555" + "5555" + "5555" + "4444"  # a public Mastercard test number
ENVOY = (
    '[2026-11-26T10:15:33.000Z] "GET /v1/cards/lookup?pan=' + PAN + '&currency=EUR HTTP/1.1" '
    '200 - via_upstream - "-" 0 512 12 11 "-" "curl/8.0" "5f1c7a0e-1111-4e2f-9a3e-1234567890ab" '
    '"payments.svc" "10.0.0.7:8080" outbound|8080||payments.svc.cluster.local '
    "10.0.0.5:41234 10.0.0.7:8080 10.0.0.5:41230 - default\n"
)


def test_spring_exceptions_are_one_record_and_envoy_query_pan_is_masked(
    tmp_path: Path,
    fluent_server: Callable[..., FluentReceiver],
    collector_proc: Callable[..., CollectorProcess],
) -> None:
    receiver = fluent_server()
    logs = tmp_path / "logs"
    config = write_config(
        tmp_path,
        receiver.port,
        sources=[
            {
                "name": "app",
                "paths": [str(logs / "app-*.log")],
                "format": "spring",
                # no `mode`: format spring joins Java stack traces by default
                "multiline": {"flush_timeout": "200ms"},
                "tag": "payment.app",
            },
            {
                "name": "mesh",
                "paths": [str(logs / "envoy-*.log")],
                "format": "envoy",
                "tag": "payment.mesh",
            },
        ],
    )
    (logs / "app-1.log").write_text(SPRING)
    (logs / "envoy-1.log").write_text(ENVOY)
    proc = collector_proc(config, env={"POD_NAME": "payment-api-7d9f", "POD_NAMESPACE": "pay"})
    entries = receiver.wait_for(4, DELIVERY_TIMEOUT)
    assert proc.terminate() == 0
    entries = receiver.entries()  # and whatever else the drain shipped

    app = [e["record"] for e in entries if e["tag"] == "payment.app"]
    mesh = [e["record"] for e in entries if e["tag"] == "payment.mesh"]
    assert len(app) == 3, "each log event, stack trace included, must be one record"
    error = app[1]
    assert error["level"] == "ERROR"
    assert "NestedServletException" in error["stack_trace"]
    assert "Caused by: java.lang.IllegalStateException" in error["stack_trace"]
    assert "... 42 more" in error["stack_trace"]
    assert not any("_parse_error" in r for r in app + mesh)

    assert len(mesh) == 1
    assert mesh[0]["response_code"] == 200
    assert "currency=EUR" in mesh[0]["path"]
    assert count_pans(receiver.out.read_text()) == 0, "a card number reached the receiver"
    for record in app + mesh:
        assert record["kubernetes"]["pod_name"] == "payment-api-7d9f"
