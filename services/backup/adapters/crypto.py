"""Compression and authenticated encryption of archives.

The encrypted file::

    magic "KZMBAK01" | key id (8 bytes) | nonce prefix (7 bytes) | chunks…

Each chunk is at most 1 MiB of plaintext, sealed with AES-256-GCM under the
nonce ``prefix | chunk number (4 bytes) | last (1 byte)`` and the header as
associated data, stored as ``length (4 bytes) | ciphertext+tag``. Changing,
reordering, removing or truncating any chunk fails authentication (the last
chunk is marked as last); the key id tells a wrong key from a damaged file.
There is no way back without the key: losing it loses the backups.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.backup.domain.archive import ArchiveDamaged

MAGIC = b"KZMBAK01"
CHUNK = 1024 * 1024
TAG = 16
HEADER = len(MAGIC) + 8 + 7
ZSTD_LEVEL = 6


class WrongKey(ArchiveDamaged):
    """The archive was encrypted with another key."""


def parse_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ValueError("the backup key is not base64") from exc
    if len(key) != 32:
        raise ValueError("the backup key must be 32 bytes (base64 of 32 random bytes)")
    return key


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"kozomol-backup-key-id\n" + key).digest()[:8]


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", number, 1 if last else 0)


def encrypt_file(source: Path, key: bytes) -> bytes:
    """The encrypted bytes of a (compressed) file."""
    aead = AESGCM(key)
    prefix = secrets.token_bytes(7)
    header = MAGIC + key_id(key) + prefix
    parts = [header]
    size = source.stat().st_size
    chunks = max(1, -(-size // CHUNK))
    with open(source, "rb") as handle:
        for number in range(chunks):
            plain = handle.read(CHUNK)
            sealed = aead.encrypt(_nonce(prefix, number, number == chunks - 1), plain, header)
            parts.append(struct.pack(">I", len(sealed)))
            parts.append(sealed)
    return b"".join(parts)


def decrypt_chunks(body: bytes, key: bytes) -> Iterator[bytes]:
    """Plaintext chunks; :class:`ArchiveDamaged` (or :class:`WrongKey`) on any mismatch."""
    if len(body) < HEADER or not body.startswith(MAGIC):
        raise ArchiveDamaged("not a Kozomol backup, or its header is damaged")
    header = body[:HEADER]
    if header[len(MAGIC):len(MAGIC) + 8] != key_id(key):
        raise WrongKey("the archive was encrypted with another key (or its header is damaged)")
    prefix = header[len(MAGIC) + 8:]
    aead = AESGCM(key)
    offset, number = HEADER, 0
    while True:
        if offset + 4 > len(body):
            raise ArchiveDamaged("the archive is truncated")
        (length,) = struct.unpack(">I", body[offset:offset + 4])
        offset += 4
        if length < TAG or length > CHUNK + TAG or offset + length > len(body):
            raise ArchiveDamaged(f"chunk {number} has an impossible length")
        last = offset + length == len(body)
        try:
            yield aead.decrypt(_nonce(prefix, number, last), body[offset:offset + length], header)
        except InvalidTag:
            raise ArchiveDamaged(f"chunk {number} fails authentication: the archive is damaged"
                                 ) from None
        offset += length
        number += 1
        if last:
            return


def decrypt_to(body: bytes, key: bytes, target: Path) -> None:
    """Authenticate and decrypt the whole archive into ``target`` before anything reads it."""
    with open(target, "wb") as out:
        for chunk in decrypt_chunks(body, key):
            out.write(chunk)


def compressing_writer(target: BinaryIO) -> zstandard.ZstdCompressionWriter:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1).stream_writer(
        target, closefd=False)


def decompressing_reader(source: BinaryIO) -> BinaryIO:
    return zstandard.ZstdDecompressor().stream_reader(source)
