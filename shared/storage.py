"""Where services keep files (printed PDFs, backups): a folder, or an S3-compatible store.

Plumbing only: a file is written whole or not at all (a reader never sees half
a file), read back by its key, listed by prefix. Large files (backups) are
stored from a file and read as a stream (``put_file``, ``open_read``), so
neither side holds them in memory. Keys are relative paths with
``/`` (``pdf/school-48/job-1.pdf``). ``KOZOMOL_STORAGE_URL`` chooses the store:
``file:///srv/kozomol/files`` (the default is ``<data dir>/files``) or
``s3://bucket/prefix`` for any S3-compatible object store (boto3; endpoint and
credentials from the standard ``AWS_*`` variables, or ``?endpoint_url=…`` in
the URL).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import parse_qs, unquote, urlparse

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

#: Large files go to S3 as a multipart upload in parts of this size, a few at a
#: time, so storing one holds a few parts in memory whatever the file's size.
PART_SIZE = 8 * 1024 * 1024
PARTS_IN_FLIGHT = 2


class StorageError(Exception):
    """The store could not be reached or refused the operation."""


class FileNotStored(KeyError):
    """No file under that key."""


class FileStore(Protocol):
    def put(self, key: str, body: bytes) -> None:
        """Store ``body`` under ``key``, replacing what was there, atomically."""

    def get(self, key: str) -> bytes:
        """The file's bytes; :class:`FileNotStored` if there is none."""

    def put_file(self, key: str, source: Path) -> None:
        """Store the file at ``source`` under ``key``, atomically: up to one part
        (:data:`PART_SIZE`) with :meth:`put`, larger ones streamed in parts."""

    def open_read(self, key: str) -> AbstractContextManager[BinaryIO]:
        """The file as a readable stream (not read into memory); :class:`FileNotStored`."""

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

    def put_file(self, key: str, source: Path) -> None:
        if source.stat().st_size <= PART_SIZE:
            self.put(key, source.read_bytes())  # one part: one write, as S3 would
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
        try:
            with open(source, "rb") as handle, open(partial, "wb") as out:
                shutil.copyfileobj(handle, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    @contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        try:
            handle = open(self._path(key), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise FileNotStored(key) from None
        with handle:
            yield handle

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


class S3FileStore:
    """A bucket (and key prefix) of an S3-compatible object store.

    A PUT of a whole object is atomic in S3: readers see the old object or the
    new one, never part of one. Credentials, region and endpoint come from
    boto3's usual sources (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
    ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``) unless given here.
    """

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            config=Config(retries={"max_attempts": 5, "mode": "standard"},
                          connect_timeout=5, read_timeout=60))

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _errors(self) -> tuple[type[Exception], ...]:
        return (BotoCoreError, ClientError)

    def put(self, key: str, body: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body)
        except self._errors() as exc:
            raise StorageError(f"cannot store {key}: {exc}") from exc

    def put_file(self, key: str, source: Path) -> None:
        """A multipart upload above one part (S3 shows the object only once complete)."""
        if source.stat().st_size <= PART_SIZE:
            self.put(key, source.read_bytes())
            return
        transfer = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE,
                                  max_concurrency=PARTS_IN_FLIGHT)
        try:
            self._client.upload_file(str(source), self.bucket, self._key(key),
                                     Config=transfer)
        except (BotoCoreError, ClientError, S3UploadFailedError) as exc:
            raise StorageError(f"cannot store {key}: {exc}") from exc

    @contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotStored(key) from None
            raise StorageError(f"cannot read {key}: {exc}") from exc
        except self._errors() as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc
        with closing(response["Body"]) as body:
            yield body  # type: ignore[misc]

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            return bytes(response["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotStored(key) from None
            raise StorageError(f"cannot read {key}: {exc}") from exc
        except self._errors() as exc:
            raise StorageError(f"cannot read {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise StorageError(f"cannot look up {key}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors() as exc:
            raise StorageError(f"cannot delete {key}: {exc}") from exc

    def keys(self, prefix: str = "") -> Iterator[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        found: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=(f"{self.prefix}/" if self.prefix else "") + prefix)
            for page in pages:
                found.extend(item["Key"][strip:] for item in page.get("Contents", ()))
        except self._errors() as exc:
            raise StorageError(f"cannot list {prefix!r}: {exc}") from exc
        return iter(sorted(found))


def open_store(url: str) -> FileStore:
    """The store a ``KOZOMOL_STORAGE_URL`` names."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalFileStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise StorageError("an s3:// storage URL needs a bucket: s3://bucket/prefix")
        options = parse_qs(parsed.query)
        return S3FileStore(parsed.netloc, unquote(parsed.path),
                           endpoint_url=options.get("endpoint_url", [None])[0],
                           region=options.get("region", [None])[0])
    raise StorageError(f"unsupported storage URL scheme: {parsed.scheme or url!r}")
