"""A printer killed in the middle of its jobs: they are done again, none is lost, none is
half a file, none is announced twice."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from services.printer.adapters.tables import jobs
from shared.db.engine import make_engine
from shared.messaging.topology import PRINTER_COPIES
from shared.settings import Settings
from shared.storage import open_store
from tests.integration.test_printer_rabbitmq import print_request, processed, send
from tests.printer_support import page_texts, school_of, simulated
from tests.support import BROKER_URL, drain_queue, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def start_printer(settings: Settings) -> subprocess.Popen[bytes]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")},
        "KOZOMOL_DATABASE_URL": settings.database_url,
        "KOZOMOL_BROKER_URL": BROKER_URL,
        "KOZOMOL_NAMESPACE": settings.namespace,
        "KOZOMOL_WEBHOOK_SECRETS": settings.webhook_secrets[0],
        "KOZOMOL_DATA_DIR": str(settings.data_dir),
        "KOZOMOL_QUEUE_TYPE": settings.queue_type,
        "KOZOMOL_DELIVERY_LIMIT": str(settings.delivery_limit),
        "KOZOMOL_OUTBOX_RELAY_INTERVAL": "0.2",
    }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = (settings.data_dir / "printer.log").open("ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "kozomol", "printer"], env=environment,
                                cwd=ROOT, stdout=log, stderr=log)
    finally:
        log.close()


def job_rows(settings: Settings) -> dict[str, Any]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            return {row.job_id: row for row in connection.execute(select(jobs))}
    finally:
        engine.dispose()


def test_a_printer_killed_mid_job_redoes_it_whole(production_settings: Settings,
                                                  migrated: Any) -> None:
    settings = migrated(production_settings)
    events = list(simulated(grades=(10,), terms=(1, 2)))
    school_id = school_of(events)
    class_id = next(e["data"]["class_id"] for e in events if e["type"] == "class.roster")
    store = open_store(settings.files_url)
    engine = make_engine(settings.database_url)
    job_ids = [f"job-crash-{n}" for n in range(6)]
    first = start_printer(settings)
    try:
        send(settings, [(e["type"], e) for e in events])
        copied = len({e["id"] for e in events if e["type"] in PRINTER_COPIES})
        wait_for(lambda: processed(engine) >= copied, timeout=180)
        # Six year journals in one batch: one transaction, committed after the last.
        send(settings, [print_request(school_id, job_id, "class_journal", class_id=class_id)
                        for job_id in job_ids], commands=True)
        wait_for(lambda: any(store.keys(f"pdf/{school_id}/")), timeout=120, interval=0.02)
        first.send_signal(signal.SIGKILL)  # a file is stored; the batch has not committed
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        engine.dispose()
    at_kill = job_rows(settings)
    assert not any(row.status == "completed" for row in at_kill.values()), \
        "the printer finished before it was killed"

    second = start_printer(settings)
    announced: dict[str, int] = {}
    try:
        wait_for(lambda: {job for job, row in job_rows(settings).items()
                          if row.status == "completed"} == set(job_ids), timeout=180)

        def all_announced() -> bool:
            for message in drain_queue(settings.namespace, "backup", idle_seconds=0.3):
                event = orjson.loads(message.body)
                if event["type"] == "print.completed":
                    announced[event["data"]["job_id"]] = \
                        announced.get(event["data"]["job_id"], 0) + 1
            return announced.keys() == set(job_ids)

        wait_for(all_announced, timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert announced == dict.fromkeys(job_ids, 1)
    rows = job_rows(settings)
    # one file per job (the redone job replaced its file whole), in the job's folder
    assert sorted(store.keys(f"pdf/{school_id}/")) == sorted(
        rows[job_id].file_key for job_id in job_ids)
    assert all(rows[job_id].file_key.startswith(f"pdf/{school_id}/{job_id}/")
               for job_id in job_ids)
    for job_id in job_ids:
        body = store.get(rows[job_id].file_key)
        assert hashlib.sha256(body).hexdigest() == rows[job_id].sha256
        assert len(page_texts(body)) == rows[job_id].pages
