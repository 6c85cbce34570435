"""Where services keep files (printed PDFs, backups): a folder, or an S3-compatible store.

Plumbing only: a file is written whole or not at all (a reader never sees half
a file), read back by its key, listed by prefix. Keys are relative paths with
``/`` (``pdf/school-48/job-1.pdf``). ``KOZOMOL_STORAGE_URL`` chooses the store:
``file:///srv/kozomol/files`` (the default is ``<data dir>/files``) or, once
added, ``s3://bucket/prefix``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse


class StorageError(Exception):
    """The store could not be reached or refused the operation."""


class FileNotStored(KeyError):
    """No file under that key."""


class FileStore(Protocol):
    def put(self, key: str, body: bytes) -> None:
        """Store ``body`` under ``key``, replacing what was there, atomically."""

    def get(self, key: str) -> bytes:
        """The file's bytes; :class:`FileNotStored` if there is none."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file; no error if there is none."""

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, in sorted order."""


def check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a valid storage key: {key!r}")
    return key


class LocalFileStore:
    """A folder. Writes go to a temporary file first, then ``os.replace`` (atomic)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def put(self, key: str, body: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
        try:
            with open(partial, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise FileNotStored(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.is_dir():
            return iter(())
        found = (path.relative_to(self.root).as_posix() for path in self.root.rglob("*")
                 if path.is_file() and not path.name.endswith(".partial"))
        return iter(sorted(key for key in found if key.startswith(prefix)))


def open_store(url: str) -> FileStore:
    """The store a ``KOZOMOL_STORAGE_URL`` names."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalFileStore(Path(unquote(parsed.path)))
    raise StorageError(f"unsupported storage URL scheme: {parsed.scheme or url!r}")
