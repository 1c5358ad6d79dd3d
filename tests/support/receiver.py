"""The real Forward receiver lives in tools/receiver; kept for imports not yet moved."""

from tools.receiver import REPO, SCRIPT, FluentReceiver

__all__ = ["REPO", "SCRIPT", "FluentReceiver"]
