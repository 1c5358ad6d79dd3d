"""`run` without OpenSSL (collector/openssl.py): the same digests, TLS still possible."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys

from collector import openssl

_DIGESTS = (
    "import hashlib, hmac\n"
    "print(hashlib.blake2b(b'line', digest_size=8).hexdigest())\n"  # file fingerprints
    "print(hashlib.sha512(b'salt-host-key').hexdigest())\n"  # the Forward shared key
    "print(hmac.new(b'k' * 32, b'digits', hashlib.sha256).hexdigest())\n"  # pan_policy hmac
)


def _in_fresh_python(script: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_built_in_hashes_give_the_same_digests_as_openssls() -> None:
    lean = _in_fresh_python(
        "from collector import openssl\n"
        "assert openssl.builtin_hashes()\n"
        "import sys\n"
        + _DIGESTS
        + "print('_hashlib' in sys.modules and sys.modules['_hashlib'] is not None)\n"
    ).split()
    assert lean[:3] == [
        hashlib.blake2b(b"line", digest_size=8).hexdigest(),
        hashlib.sha512(b"salt-host-key").hexdigest(),
        hmac.new(b"k" * 32, b"digits", hashlib.sha256).hexdigest(),
    ]
    assert lean[3] == "False", "OpenSSL's hash module was loaded"


def test_without_tls_asyncio_runs_without_ssl() -> None:
    out = _in_fresh_python(
        "from collector import openssl\n"
        "assert openssl.leave_out_tls()\n"
        "import asyncio, sys\n"
        "async def main():\n"
        "    await asyncio.sleep(0)\n"
        "    return 'ran'\n"
        "print(asyncio.run(main()), sys.modules.get('ssl'))\n"
    )
    assert out.split() == ["ran", "None"]


def test_too_late_changes_nothing() -> None:
    # This test process has imported asyncio and hashlib already: nothing is taken away.
    assert "asyncio" in sys.modules
    assert openssl.leave_out_tls() is False
    assert openssl.builtin_hashes() is False
    assert sys.modules.get("ssl") is not None or "ssl" not in sys.modules


def test_tls_and_textfiles_need_openssl() -> None:
    from collector.config import parse_config

    sources = "sources: [{name: app, paths: ['/var/log/app/*.log']}]\n"
    base = sources + "forward:\n  servers: [{host: 127.0.0.1, port: 24224}]\n"
    assert not openssl.needed(parse_config(base))
    tls = base + "  tls: {enabled: true}\n"
    assert openssl.needed(parse_config(tls))
    textfile = base + "metrics:\n  textfile: {paths: ['/tmp/*.prom']}\n"
    assert openssl.needed(parse_config(textfile))
