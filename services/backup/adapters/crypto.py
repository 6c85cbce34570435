"""Compression and authenticated encryption of archives.

The encrypted file::

    magic "KZMBAK01" | key id (8 bytes) | nonce prefix (7 bytes) | chunks…

Each chunk is at most 1 MiB of plaintext, sealed with AES-256-GCM under the
nonce ``prefix | chunk number (4 bytes) | last (1 byte)`` and the header as
associated data, stored as ``length (4 bytes) | ciphertext+tag``. Changing,
reordering, removing or truncating any chunk fails authentication (the last
chunk is marked as last); the key id tells a wrong key from a damaged file.
There is no way back without the key: losing it loses the backups.

Both directions stream: :class:`EncryptingWriter` holds one chunk back until
it knows whether more follows, :func:`decrypted_stream` reads one chunk ahead
to know which is the last; neither holds more than a chunk or two of the
archive (issue 20). The format is unchanged, so archives written before open
the same way.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

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


class EncryptingWriter:
    """A binary writer that seals what is written into ``target`` chunk by chunk.

    One chunk of plaintext is held back until the next write (or :meth:`close`)
    tells whether it is the last, so memory stays at one chunk whatever the size.
    """

    def __init__(self, target: BinaryIO, key: bytes) -> None:
        self._target, self._aead = target, AESGCM(key)
        self._prefix = secrets.token_bytes(7)
        self._header = MAGIC + key_id(key) + self._prefix
        self._pending = bytearray()
        self._number = 0
        self.closed = False
        target.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._pending += data
        # keep at least one full chunk back: only close() knows which one is last
        while len(self._pending) > CHUNK:
            self._seal(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]
        return len(data)

    def flush(self) -> None:
        """Nothing to do: chunks are sealed as they fill (zstd calls this)."""

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._pending), last=True)
            self._pending.clear()
            self.closed = True

    def _seal(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._number, last), plain,
                                    self._header)
        self._target.write(struct.pack(">I", len(sealed)))
        self._target.write(sealed)
        self._number += 1


def encrypt_file(source: Path, key: bytes) -> bytes:
    """The encrypted bytes of a (compressed) file (small files; archives stream)."""
    out = io.BytesIO()
    writer = EncryptingWriter(out, key)
    with open(source, "rb") as handle:
        while block := handle.read(CHUNK):
            writer.write(block)
    writer.close()
    return out.getvalue()


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end (network streams return short reads)."""
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def decrypted_stream(source: BinaryIO, key: bytes) -> Iterator[bytes]:
    """Plaintext chunks of an archive read from ``source``, each authenticated before
    it is given out; :class:`ArchiveDamaged` (or :class:`WrongKey`) on any mismatch.

    The chunk after the current one is looked for before it is opened: a chunk
    is the last exactly when nothing follows it, as its nonce must say.
    """
    header = _read_exactly(source, HEADER)
    if len(header) < HEADER or not header.startswith(MAGIC):
        raise ArchiveDamaged("not a Kozomol backup, or its header is damaged")
    if header[len(MAGIC):len(MAGIC) + 8] != key_id(key):
        raise WrongKey("the archive was encrypted with another key (or its header is damaged)")
    prefix = header[len(MAGIC) + 8:]
    aead = AESGCM(key)
    number = 0
    length_bytes = _read_exactly(source, 4)
    while True:
        if len(length_bytes) < 4:
            raise ArchiveDamaged("the archive is truncated")
        (length,) = struct.unpack(">I", length_bytes)
        if length < TAG or length > CHUNK + TAG:
            raise ArchiveDamaged(f"chunk {number} has an impossible length")
        sealed = _read_exactly(source, length)
        if len(sealed) < length:
            raise ArchiveDamaged(f"chunk {number} has an impossible length")
        length_bytes = _read_exactly(source, 4)
        last = not length_bytes
        try:
            yield aead.decrypt(_nonce(prefix, number, last), sealed, header)
        except InvalidTag:
            raise ArchiveDamaged(f"chunk {number} fails authentication: the archive is damaged"
                                 ) from None
        number += 1
        if last:
            return


def decrypt_chunks(body: bytes, key: bytes) -> Iterator[bytes]:
    """Plaintext chunks of an archive held in memory (see :func:`decrypted_stream`)."""
    return decrypted_stream(io.BytesIO(body), key)


class DecryptingReader(io.RawIOBase):
    """A readable file of the plaintext, for zstd's stream reader: one chunk in memory."""

    def __init__(self, source: BinaryIO, key: bytes) -> None:
        self._chunks = decrypted_stream(source, key)
        self._buffer = b""
        self._offset = 0
        self.finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        view = memoryview(target).cast("B")
        while self._offset >= len(self._buffer):
            chunk = next(self._chunks, None)
            if chunk is None:
                self.finished = True
                return 0
            self._buffer, self._offset = chunk, 0
        size = min(len(view), len(self._buffer) - self._offset)
        view[:size] = self._buffer[self._offset:self._offset + size]
        self._offset += size
        return size

    def drain(self) -> None:
        """Read (and so authenticate) every chunk left, up to the last."""
        for _ in self._chunks:
            pass
        self._buffer, self._offset, self.finished = b"", 0, True


def decrypt_to(body: bytes, key: bytes, target: Path) -> None:
    """Authenticate and decrypt a whole archive into ``target`` (by hand, see docs)."""
    with open(target, "wb") as out:
        for chunk in decrypt_chunks(body, key):
            out.write(chunk)


def compressing_writer(target: BinaryIO) -> zstandard.ZstdCompressionWriter:
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1).stream_writer(
        target, closefd=False)


def decompressing_reader(source: BinaryIO) -> BinaryIO:
    return zstandard.ZstdDecompressor().stream_reader(source)
