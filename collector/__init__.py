"""collector: a log sidecar for payment services.

Data flow: tail -> parse -> redact -> forward, with metrics beside. See README.md.
"""

__version__ = "0.1.0"
