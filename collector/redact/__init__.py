"""Card-data redaction: a cheap pre-scan of raw lines, a careful walk of flagged records."""

from collector.redact.redactor import Redactor

__all__ = ["Redactor"]
