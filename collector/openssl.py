"""Keep OpenSSL out of a collector that does not use TLS.

`asyncio` imports `ssl` whenever it can, and `ssl` and `hashlib` load libssl and
libcrypto: about 4 MiB of RSS in every pod, paid by the many sidecars that ship in the
clear to a node-local Fluent Bit. Before anything imports them, `run` marks `ssl` and
`_hashlib` as absent when the config does not need them; asyncio then takes the path
CPython keeps for builds without OpenSSL (TLS unavailable, everything else the same), and
`hashlib` serves blake2b, sha256 and sha512 (file fingerprints, the Forward shared key,
`mask: hash`) from its built-in modules, with the same digests.

What needs OpenSSL: `forward.tls.enabled`, and the textfile collector (it reads `*.prom`
files with prometheus-client, whose exposition module imports `ssl`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collector.config import Config


def needed(cfg: Config) -> bool:
    """Whether this config uses a feature that imports `ssl`."""
    return cfg.forward.tls.enabled or bool(cfg.metrics.textfile.paths)


def builtin_hashes() -> bool:
    """Serve `hashlib` from CPython's built-in modules instead of OpenSSL's.

    Called before the config is read (reading it imports `hashlib`). Returns False, and
    changes nothing, when `hashlib` was imported already (an embedding program, a test).
    """
    return _absent(("_hashlib",), already=("hashlib", "_hashlib"))


def leave_out_tls() -> bool:
    """Make `import ssl` fail from now on, as on a Python built without it.

    Called after the config is read, before asyncio is imported. Returns False, and
    changes nothing, when `ssl` or asyncio was imported already.
    """
    return _absent(("ssl", "_ssl"), already=("ssl", "_ssl", "asyncio"))


def _absent(names: tuple[str, ...], already: tuple[str, ...]) -> bool:
    if any(name in sys.modules for name in already):
        return False
    for name in names:
        sys.modules[name] = None  # type: ignore[assignment]
    return True
