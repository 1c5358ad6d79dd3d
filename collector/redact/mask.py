"""How a found PAN is written out: the one place that decides the masking policy.

`keep_first6_last4` is the PCI DSS 3.3 display rule (BIN and last four). For PANs shorter
than 16 digits the kept prefix shrinks so that at least six digits are always hidden.
`hmac` replaces the PAN with a keyed token (HMAC-SHA256, PCI DSS 3.4 "keyed cryptographic
hash") written with letters only, so that a token can never look like a card number and
the same card gives the same token across records, files and restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from collector.redact.config import RedactConfig

MASK_CHAR = "*"
MIN_HIDDEN = 6
TOKEN_PREFIX = "pan_tok_"
TOKEN_CHARS = 20
# Hex digit -> letter, so tokens hold no digits at all.
_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "ghijklmnopabcdef")


def load_hmac_key(cfg: RedactConfig) -> bytes | None:
    """The HMAC secret from `hmac_key`, `hmac_key_file` or the env var `hmac_key_env`.

    Raises ValueError (at startup, never on the hot path) when hmac is chosen and no
    secret can be read; the message names where it looked, not what it found.
    """
    if cfg.pan_policy != "hmac":
        return None
    if cfg.hmac_key:
        return cfg.hmac_key.encode()
    if cfg.hmac_key_file:
        try:
            with open(cfg.hmac_key_file, "rb") as f:
                key = f.read().strip()
        except OSError as e:
            raise ValueError(f"redact.hmac_key_file: cannot read: {e.strerror}") from None
        if not key:
            raise ValueError("redact.hmac_key_file: file is empty")
        return key
    if cfg.hmac_key_env:
        value = os.environ.get(cfg.hmac_key_env, "")
        if not value:
            raise ValueError(f"redact.hmac_key_env: ${cfg.hmac_key_env} is unset or empty")
        return value.encode()
    raise ValueError("redact.pan_policy hmac needs hmac_key, hmac_key_file or hmac_key_env")


class PanMasker:
    """Turns the digits of one PAN into its replacement text under one policy."""

    def __init__(self, policy: str, hmac_key: bytes | None = None) -> None:
        if policy == "hmac" and not hmac_key:
            raise ValueError("pan_policy hmac needs a key")
        self.policy = policy
        self._key = hmac_key or b""

    def __call__(self, digits: str) -> str:
        n = len(digits)
        if self.policy == "keep_first6_last4":
            first = max(0, min(6, n - 4 - MIN_HIDDEN))
            return digits[:first] + MASK_CHAR * (n - first - 4) + digits[-4:]
        if self.policy == "keep_last4":
            return MASK_CHAR * (n - 4) + digits[-4:]
        if self.policy == "mask_all":
            return MASK_CHAR * n
        digest = hmac.new(self._key, digits.encode(), hashlib.sha256).hexdigest()
        return TOKEN_PREFIX + digest[:TOKEN_CHARS].translate(_HEX_TO_LETTERS)
