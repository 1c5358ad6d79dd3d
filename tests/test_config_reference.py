"""docs/config.md is the one config reference, generated from the config Structs: it must be
what `make config-ref` writes now, and every key must say what it does."""

from __future__ import annotations

import re

from tools.configref import OUT, render


def test_the_config_reference_is_current() -> None:
    assert OUT.read_text() == render(), "docs/config.md is stale: run `make config-ref`"


def test_every_key_is_described() -> None:
    undescribed = re.findall(r"^\| `([^`]+)` \|[^\n]*\|  \|$", render(), re.M)
    assert not undescribed, f"keys without a comment in their Struct: {undescribed}"
