"""Config of the redactor (`redact:`)."""

from __future__ import annotations

import re
from typing import Literal

import msgspec


class CustomRule(msgspec.Struct, forbid_unknown_fields=True):
    """A named regex whose matches are replaced; counted as `custom:NAME`."""

    # The rule's name, in `collector_redactions_total{rule="custom:NAME"}`.
    name: str
    # A Python regex; every match in every string is replaced.
    pattern: str
    # What each match becomes.
    replacement: str = "[REDACTED]"


class RedactConfig(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """What is masked and how. The built-in rules are always on; these add to them."""

    # keep_first6_last4 is the PCI DSS display rule; hmac gives a stable token per card.
    pan_policy: Literal["keep_first6_last4", "keep_last4", "mask_all", "hmac"] = "keep_first6_last4"
    # The secret of `pan_policy: hmac`, inline (or hmac_key_file, or hmac_key_env).
    hmac_key: str | None = None
    # The secret of `pan_policy: hmac`, read from this file (a mounted Secret).
    hmac_key_file: str | None = None
    # Name of an environment variable holding the HMAC secret (read once at startup).
    hmac_key_env: str | None = None
    # More keys whose values are removed like `cvv`
    extra_sensitive_keys: list[str] = []
    # More keys whose values are masked like `expiry`
    extra_expiry_keys: list[str] = []
    custom_rules: list[CustomRule] = []
    # Deeper or bigger records are withheld whole (fail closed), never shipped raw.
    max_depth: int = 64
    # Records deeper or bigger are replaced by a placeholder with the reason (fail closed, counted)
    max_record_bytes: int = 1024 * 1024
    # Ignored since the careful pass has one detector (detect.py) and the pre-scan is C
    # (or every line without it); accepted so that configs written for it still load.
    scan_engine: Literal["auto", "re", "re2"] = "auto"
    # Expiry dates are cardholder data only together with the full PAN (PCI DSS): mask
    # them in a record (or embedded document) that holds one, always, or never.
    expiry: Literal["with_pan", "always", "never"] = "with_pan"

    def __post_init__(self) -> None:
        if self.pan_policy == "hmac" and not (
            self.hmac_key or self.hmac_key_file or self.hmac_key_env
        ):
            raise ValueError("pan_policy hmac needs hmac_key, hmac_key_file or hmac_key_env")
        if not 1 <= self.max_depth <= 500:
            raise ValueError("max_depth must be between 1 and 500")
        if self.max_record_bytes < 1024:
            raise ValueError("max_record_bytes must be at least 1024")
        for field in ("extra_sensitive_keys", "extra_expiry_keys"):
            for name in getattr(self, field):
                if not name[:1].isalpha():
                    raise ValueError(f"{field}: {name!r} must start with a letter")
        names = [rule.name for rule in self.custom_rules]
        if len(set(names)) != len(names):
            raise ValueError("custom_rules: names must be unique")
        for rule in self.custom_rules:
            try:
                re.compile(rule.pattern)
            except re.error as e:
                raise ValueError(f"custom_rules {rule.name}: bad pattern: {e}") from None
