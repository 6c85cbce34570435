"""What asking an owning service for a heavy job (a report, a print job, a backup) came to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Started:
    """``job_id`` is the report's, job's or backup's id. ``busy_with`` names the job of the
    same kind already in flight for the school (nothing was recorded). Otherwise the
    command was recorded in the gateway's command outbox (``command_id``) with the job,
    and ``sent`` says whether the broker took it at once; if not, the command relay sends
    it when the broker is back (so nothing will answer it meanwhile)."""

    job_id: str
    command_id: str | None = None
    busy_with: str | None = None
    sent: bool = False
