"""What asking an owning service for a heavy job (a report, a print job, a backup) came to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Started:
    """``job_id`` is the report's, job's or backup's id; ``command_id`` None means the
    broker did not take the command (nothing was left waiting); ``busy_with`` names the
    job of the same kind already in flight for the school (nothing was sent)."""

    job_id: str
    command_id: str | None = None
    busy_with: str | None = None

    @property
    def sent(self) -> bool:
        return self.command_id is not None
