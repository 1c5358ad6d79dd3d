"""Which file is this: (device, inode) plus a hash of the first bytes.

The inode alone lies after inode reuse; the name alone lies after rotation. A copy made
by copytruncate has a new inode but the same first bytes, which is how it is recognised
as the continuation of the file it was copied from.
"""

from __future__ import annotations

import hashlib
import os

import msgspec

FINGERPRINT_BYTES = 256
# Below this many bytes a fingerprint says too little to match a copy by content alone.
MIN_MATCH_BYTES = 32


class Identity(msgspec.Struct, frozen=True):
    dev: int
    ino: int

    @property
    def key(self) -> str:
        return f"{self.dev}:{self.ino}"


class Fingerprint(msgspec.Struct):
    """Hash of the first `length` bytes (length grows up to FINGERPRINT_BYTES)."""

    length: int
    digest: str

    def complete(self) -> bool:
        return self.length >= FINGERPRINT_BYTES


def identity_of(st: os.stat_result) -> Identity:
    return Identity(st.st_dev, st.st_ino)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def fingerprint_fd(fd: int, size: int, length: int = FINGERPRINT_BYTES) -> Fingerprint:
    n = min(size, length)
    data = os.pread(fd, n, 0) if n else b""
    return Fingerprint(len(data), digest(data))


def same_start(fd: int, size: int, fp: Fingerprint) -> bool:
    """Whether the file behind `fd` begins with the bytes `fp` was taken from."""
    if fp.length > size:
        return False
    return fingerprint_fd(fd, size, fp.length).digest == fp.digest
