"""The backup service's use cases: take events in, back up, verify, restore, prune,
and keep the year-end archive registry.

Long work (making, verifying, restoring a backup) runs outside the consumer's
transaction: a command only records a request, which the scheduler thread
carries out (``main.py: Scheduler``), or the CLI runs it directly.
"""

from __future__ import annotations

from services.backup.handlers.backup import Outcome, make_backup, needs_trial_restore, write_backup
from services.backup.handlers.catalog import (
    claim_requested,
    claim_slot,
    create_request,
    find_backup,
    latest_backup,
    list_backups,
)
from services.backup.handlers.context import (
    COMMANDS,
    CREATE_COMMAND,
    PRINT_COMPLETED,
    PRINT_FAILED,
    PRINT_REQUEST,
    YEAR_END_COMMAND,
    BackupContext,
    RestoreRefused,
)
from services.backup.handlers.export import export_class_journal
from services.backup.handlers.journal import (
    add_registry_entry,
    append_to_journal,
    classes_of,
    forget_failed_prints,
    register_printed,
    registry,
    request_backups,
    request_class_journals,
    start_year_end,
)
from services.backup.handlers.restore import Restored, journal_entries_all, replay, restore
from services.backup.handlers.retention import prune
from services.backup.handlers.verify import Verification, verify, verify_stream

__all__ = [
    "COMMANDS",
    "CREATE_COMMAND",
    "PRINT_COMPLETED",
    "PRINT_FAILED",
    "PRINT_REQUEST",
    "YEAR_END_COMMAND",
    "BackupContext",
    "Outcome",
    "RestoreRefused",
    "Restored",
    "Verification",
    "add_registry_entry",
    "append_to_journal",
    "claim_requested",
    "claim_slot",
    "classes_of",
    "create_request",
    "export_class_journal",
    "find_backup",
    "forget_failed_prints",
    "journal_entries_all",
    "latest_backup",
    "list_backups",
    "make_backup",
    "needs_trial_restore",
    "prune",
    "register_printed",
    "registry",
    "replay",
    "request_backups",
    "request_class_journals",
    "restore",
    "start_year_end",
    "verify",
    "verify_stream",
    "write_backup",
]
