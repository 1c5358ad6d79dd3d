from __future__ import annotations

import pytest

from collector.route.tag import TagTemplate


def test_static_parts_render_once_per_file() -> None:
    tag = TagTemplate("payment.${source}.${file}", "api")
    assert not tag.per_record
    assert (
        tag.for_file("/var/log/app/payments-api.2026-11-26.log")
        == "payment.api.payments-api.2026-11-26"
    )
    assert tag.for_file("/var/log/app/gc log (1).txt") == "payment.api.gc_log__1_"
    assert tag.render("/x/a.log", {}) == "payment.api.a"


def test_default_template() -> None:
    assert (
        TagTemplate("collector.${source}", "payments").for_file("/x/y.log") == "collector.payments"
    )


def test_record_fields() -> None:
    tag = TagTemplate("pay.${record.kubernetes.namespace}.${record.level}", "s")
    assert tag.per_record
    assert tag.for_file("/x/a.log") is None
    assert (
        tag.render("/x/a.log", {"kubernetes": {"namespace": "prod"}, "level": "ERROR"})
        == "pay.prod.ERROR"
    )
    assert tag.render("/x/a.log", {"level": {"nested": 1}}) == "pay.unknown.unknown"
    assert tag.render("/x/a.log", {"kubernetes": "flat", "level": "a b/c"}) == "pay.unknown.a_b_c"
    assert tag.render("/x/a.log", {"level": True}) == "pay.unknown.true"
    assert tag.render("/x/a.log", {"level": "x" * 200}).endswith("." + "x" * 64)


@pytest.mark.parametrize("template", ["a.${host}", "a.${record.}", "a.${record..x}", "a.${}"])
def test_unknown_variables_are_refused(template: str) -> None:
    with pytest.raises(ValueError, match="tag: unknown variable"):
        TagTemplate(template, "s")
