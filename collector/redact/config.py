"""Config of the redactor (`redact:`)."""

from __future__ import annotations

from typing import Literal

import msgspec


class CustomRule(msgspec.Struct, forbid_unknown_fields=True):
    """A named regex whose matches are replaced; counted as `custom:NAME`."""

    name: str
    pattern: str
    replacement: str = "[REDACTED]"


class RedactConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What is masked and how. The built-in rules are always on; these add to them."""

    # keep_first6_last4 is the PCI DSS display rule; hmac gives a stable token per card.
    pan_policy: Literal["keep_first6_last4", "keep_last4", "mask_all", "hmac"] = (
        "keep_first6_last4"
    )
    hmac_key: str | None = None
    hmac_key_file: str | None = None
    extra_sensitive_keys: list[str] = []
    extra_expiry_keys: list[str] = []
    custom_rules: list[CustomRule] = []
    max_depth: int = 64
    max_record_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        if self.pan_policy == "hmac" and not (self.hmac_key or self.hmac_key_file):
            raise ValueError("pan_policy hmac needs hmac_key or hmac_key_file")
