"""A large archive goes to S3 in parts and is read back from it as a stream (issue 20),
against moto's standalone server."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from services.backup.handlers import create_request, make_backup, restore, verify
from services.backup.main import context_for
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.settings import SERVICES, Settings
from shared.storage import PART_SIZE
from tests.backup_support import backup_settings, empty_database, fill_journal, small_school_events
from tests.integration.test_backup_s3 import s3_endpoint  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


def test_an_archive_larger_than_a_part_is_uploaded_in_parts_and_read_as_a_stream(
        s3_endpoint: str, production_settings: Settings,  # noqa: F811 - the fixture
        migrated: Callable[[Settings], Settings], tmp_path: Path) -> None:
    settings = replace(backup_settings(migrated(production_settings), tmp_path),
                       backup_storage_url=f"s3://kozomol/parts?endpoint_url={s3_endpoint}")
    ctx = context_for(settings)
    try:
        fill_journal(ctx.engine, small_school_events()[:500])
        assert ctx.files is not None
        ctx.files.put("pdf/sch0001/scan.pdf", secrets.token_bytes(2 * PART_SIZE + 1000))
        outcome = make_backup(ctx, create_request(ctx.engine, "*", "manual", "t", ctx.clock()))
        assert outcome.status == "verified", outcome.problems
        assert outcome.bytes > 2 * PART_SIZE
        head = boto3.client("s3", endpoint_url=s3_endpoint).head_object(
            Bucket="kozomol", Key=f"parts/{outcome.key}")
        assert head["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
        assert head["ContentLength"] == outcome.bytes
        assert verify(ctx, outcome.key or "", trial_restore=False).ok
        with empty_database() as url:
            upgrade(url, "backup", SERVICES)
            target = make_engine(url)
            try:
                assert restore(ctx, outcome.key or "", target).events == 500
            finally:
                target.dispose()
    finally:
        ctx.engine.dispose()
