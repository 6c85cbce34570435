"""What the backup service's use cases share: the commands it obeys and its context."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from services.backup.adapters.archive_io import (
    ProgressFn,
)
from services.backup.domain.retention import Retention
from shared.storage import FileStore

log = logging.getLogger(__name__)


#: Commands the gateway (or an operator) sends; routing key ``backup.<type>``.
CREATE_COMMAND = "backup.create"
YEAR_END_COMMAND = "archive.year_end"
COMMANDS = frozenset({CREATE_COMMAND, YEAR_END_COMMAND})
PRINT_COMPLETED = "print.completed"
PRINT_FAILED = "print.failed"
#: The printer's command (commands exchange, key ``printer.print.request``).
PRINT_REQUEST = "print.request"


class RestoreRefused(Exception):
    """The target database is not empty, or the archive does not check out."""


@dataclass
class BackupContext:
    """What the use cases need; built once per process from the settings."""

    engine: Engine
    archives: FileStore            # where archives are kept
    files: FileStore | None        # printed PDFs (pdf/<school>/…), copied into archives
    key: bytes
    retention: Retention = field(default_factory=Retention)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    progress: ProgressFn | None = None
    scratch: Path | None = None    # parent of scratch folders (the system's temp by default)
    #: where each scope's folded tables are kept between backups (none: fold the whole journal)
    kept_tables: Path | None = None


class scratch:  # noqa: N801 - used as a context manager like tempfile's
    """A scratch folder of the backup's own, removed afterwards."""

    def __init__(self, ctx: BackupContext) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="kozomol-backup-", dir=ctx.scratch))

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *_: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
