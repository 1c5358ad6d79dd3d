"""Which file is this: (device, inode) plus a hash of the first bytes.

The inode alone lies after inode reuse; the name alone lies after rotation. A copy made
by copytruncate has a new inode but the same first bytes, which is how it is recognised
as the continuation of the file it was copied from. Same first bytes alone prove
nothing, though: files that open with the same banner, or workers that log the same
first line, share them too. So a file is taken for a copy only with evidence of a cut
(source.py), and a distinct inode that was never cut is a new file, read from 0.
"""

from __future__ import annotations

import hashlib
import os

import msgspec

FINGERPRINT_BYTES = 256
# How much of two files `same_prefix` compares: a copy equals its original throughout;
# files that merely share a banner differ within this.
PREFIX_COMPARE_BYTES = 64 * 1024
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


def same_prefix(fd_a: int, size_a: int, fd_b: int, size_b: int) -> bool:
    """Whether the shorter of two files is, in its first PREFIX_COMPARE_BYTES, the start
    of the other: what a copy is of a file that has only grown since it was copied."""
    n = min(size_a, size_b, PREFIX_COMPARE_BYTES)
    return os.pread(fd_a, n, 0) == os.pread(fd_b, n, 0)


def digest_before(fd: int, offset: int) -> str:
    """Digest of the bytes just before `offset` (up to FINGERPRINT_BYTES of them): what a
    file must hold there to be the file, or the copy of the file, that was read to it."""
    n = min(offset, FINGERPRINT_BYTES)
    data = os.pread(fd, n, offset - n) if n else b""
    return digest(data) if len(data) == n else ""


def holds_before(fd: int, offset: int, expected: str) -> bool:
    """Whether the file at `fd` holds, before `offset`, the bytes `expected` digests (an
    empty `expected`, from an older checkpoint, says nothing and holds)."""
    return not expected or digest_before(fd, offset) == expected
