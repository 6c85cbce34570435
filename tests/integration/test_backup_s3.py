"""The S3-compatible store over real HTTP (moto's standalone server), and backups kept there."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from services.backup.handlers import create_request, make_backup, restore, verify
from services.backup.main import context_for
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.settings import SERVICES, Settings
from shared.storage import FileNotStored, S3FileStore, StorageError, open_store
from tests.backup_support import (
    backup_settings,
    empty_database,
    fill_journal,
    small_school_events,
)

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server in a subprocess on a free port; a bucket ``kozomol`` in it."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"),
                            ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            monkeypatch.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="kozomol")
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


def test_s3_store_operations(s3_endpoint: str) -> None:
    store = open_store(f"s3://kozomol/files/?endpoint_url={s3_endpoint}")
    assert isinstance(store, S3FileStore)
    store.put("pdf/s1/b.pdf", b"B")
    store.put("pdf/s1/a.pdf", b"A")
    store.put("backups/all/x.kzb", b"X" * 100_000)
    assert store.get("pdf/s1/a.pdf") == b"A"
    assert store.exists("pdf/s1/b.pdf") and not store.exists("pdf/s1/c.pdf")
    assert list(store.keys("pdf/")) == ["pdf/s1/a.pdf", "pdf/s1/b.pdf"]
    assert list(store.keys()) == ["backups/all/x.kzb", "pdf/s1/a.pdf", "pdf/s1/b.pdf"]
    store.put("pdf/s1/a.pdf", b"A2")  # replaced whole
    assert store.get("pdf/s1/a.pdf") == b"A2"
    store.delete("pdf/s1/a.pdf")
    store.delete("pdf/s1/a.pdf")  # no error when already gone
    with pytest.raises(FileNotStored):
        store.get("pdf/s1/a.pdf")
    with pytest.raises(ValueError):
        store.put("../escape", b"")
    with pytest.raises(StorageError):
        open_store(f"s3://no-such-bucket/?endpoint_url={s3_endpoint}").put("a", b"a")


def test_backups_in_s3_verify_and_restore(
        s3_endpoint: str, production_settings: Settings,
        migrated: Callable[[Settings], Settings], tmp_path: Path) -> None:
    settings = replace(backup_settings(migrated(production_settings), tmp_path),
                       backup_storage_url=f"s3://kozomol/backups-of-test?endpoint_url={s3_endpoint}")
    ctx = context_for(settings)
    try:
        fill_journal(ctx.engine, small_school_events())
        outcome = make_backup(ctx, create_request(ctx.engine, "*", "manual", "t", ctx.clock()))
        assert outcome.status == "verified", outcome.problems
        keys = list(ctx.archives.keys("backups/"))
        assert keys == [outcome.key]
        raw = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(
            Bucket="kozomol")["Contents"]
        assert [item["Key"] for item in raw] == [f"backups-of-test/{outcome.key}"]
        with empty_database() as url:
            upgrade(url, "backup", SERVICES)
            target = make_engine(url)
            try:
                assert restore(ctx, outcome.key or "", target).events == outcome.events
            finally:
                target.dispose()
        body = bytearray(ctx.archives.get(outcome.key or ""))
        body[len(body) // 3] ^= 0xFF
        ctx.archives.put(outcome.key or "", bytes(body))
        assert not verify(ctx, outcome.key or "").ok
    finally:
        ctx.engine.dispose()
