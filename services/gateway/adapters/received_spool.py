"""Ids accepted while the gateway's database was away, kept on disk until it is back.

Without its database the intake still makes events durable on the broker
(``handlers/intake.py``), but cannot record their ids in
``gateway_received_events``; a later re-send would then be taken as new
(issue 19). Each accepted id is therefore appended here (one JSON line per
event, fsynced before the 202), and :meth:`ReceivedSpool.reconcile` moves the
lines into the table once the database answers again, skipping ids it
already has.

Several gunicorn workers share the folder: each writes its own file, under an
exclusive ``flock``. The reconciler renames a file before reading it and takes
the same lock, so it waits for a write in progress; a writer that finds its
path renamed under it (another inode) writes to a fresh file instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from services.gateway.adapters.received_ids import recorded_type
from services.gateway.adapters.tables import received_events
from shared.db.inserts import insert_new

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"


class ReceivedSpool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        #: this process wrote lines that may not be in the table yet
        self.pending = self._has_lines()
        self._lock = threading.Lock()

    def append(self, events: Sequence[dict[str, Any]], received_at: datetime) -> None:
        """Keep the ids (durably) before the events are answered as accepted."""
        if not events:
            return
        lines = b"".join(orjson.dumps({
            "event_id": event["id"], "school_id": event["school_id"],
            "type": recorded_type(event),
            "received_at": received_at.isoformat()}) + b"\n" for event in events)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{os.getpid()}-{threading.get_ident()}{SUFFIX}"
        while True:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    if os.fstat(fd).st_ino != os.stat(path).st_ino:
                        continue  # renamed by the reconciler meanwhile: write a fresh file
                except FileNotFoundError:
                    continue
                os.write(fd, lines)
                os.fsync(fd)
                break
            finally:
                os.close(fd)
        self.pending = True

    def reconcile(self, engine: Engine) -> int:
        """Record every spooled id in the table; returns how many were not there yet.

        Leaves the spool as it was if the database is still away.
        """
        if not self.folder.exists():
            self.pending = False
            return 0
        added = 0
        with self._lock:
            for path in sorted(self.folder.glob(f"*{SUFFIX}")):
                # never onto an earlier file's name: a rename would replace it
                taken = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.reconciling")
                with contextlib.suppress(FileNotFoundError):
                    path.rename(taken)
            for taken in sorted(self.folder.glob("*.reconciling")):
                added += self._record(engine, taken)
            self.pending = self._has_lines()
        if added:
            log.warning("recorded ids accepted while the database was away",
                        extra={"events": added})
        return added

    def _has_lines(self) -> bool:
        return self.folder.exists() and any(
            path.suffix in (SUFFIX, ".reconciling") for path in self.folder.iterdir())

    @staticmethod
    def _record(engine: Engine, taken: Path) -> int:
        try:
            fd = os.open(taken, os.O_RDONLY)
        except FileNotFoundError:
            return 0  # another process reconciled it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a writer still finishing its line
            with os.fdopen(os.dup(fd), "rb") as reader:
                content = reader.read()
        finally:
            os.close(fd)
        rows = []
        for line in content.splitlines():
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, ValueError):
                row = orjson.loads(line)  # a torn last line (a crash mid-write) is skipped
                rows.append({**row, "received_at": datetime.fromisoformat(row["received_at"])
                             .astimezone(UTC), "stored_in": "broker"})
        added = 0
        with engine.begin() as connection:
            for start in range(0, len(rows), 1000):
                added += len(insert_new(connection, received_events, rows[start:start + 1000],
                                        received_events.c.event_id))
        taken.unlink(missing_ok=True)
        return added


class SpoolReconciler:
    """A companion thread: reconciles the spool every ``interval`` seconds while it has lines."""

    def __init__(self, spool: ReceivedSpool, engine: Engine, interval: float = 1.0) -> None:
        self._spool, self._engine, self._interval = spool, engine, interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._spool.reconcile(self._engine)
            except DBAPIError:
                log.info("database still away; spooled ids kept")
            except OSError:
                log.exception("the received-ids spool cannot be read")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="received-spool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(10)
