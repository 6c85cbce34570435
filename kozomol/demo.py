"""``kozomol demo``: the whole intake path on the embedded default, in a minute.

Until the Kundoluk simulator lands (issue 3), the demo sends the sample
events in ``docs/examples/first-events.json``: it starts every service in this
process on a fresh data folder, posts them signed (twice, to show idempotency),
waits until the services have consumed them, and prints what happened. It leaves
its results (the SQLite database, the quarantine as CSV, the journal record as
JSON Lines) in the folder it names at the end.
"""

from __future__ import annotations

import csv
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click
import httpx
import orjson
from sqlalchemy import func, select

from kozomol.embedded import EmbeddedKozomol
from kozomol.webhook_client import post_events
from services.backup.adapters.tables import journal
from services.gateway.adapters.tables import quarantine
from shared.settings import Settings, with_embedded_secret

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "first-events.json"


def run_demo(settings: Settings, output: Path) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    settings = with_embedded_secret(replace(
        settings, data_dir=output, database_url=f"sqlite:///{output / 'kozomol.sqlite3'}",
        service_database_urls={}, broker_url="memory://"))
    started = time.perf_counter()
    kozomol = EmbeddedKozomol(settings, host="127.0.0.1", port=0)
    kozomol.start()
    try:
        if not kozomol.wait_ready(30):
            raise click.ClickException("the services did not start within 30 s")
        events = orjson.loads(EXAMPLE.read_bytes())["events"]
        url = f"{kozomol.url}/webhooks/kundoluk"
        rows = []
        with httpx.Client(timeout=30) as client:
            for attempt in ("first delivery", "same batch again"):
                reply = post_events(client, url, settings.webhook_secrets, events).json()
                rows.append((attempt, len(events), reply["accepted"], reply["duplicates"],
                             len(reply["rejected"])))
        journal_count = _wait_for_journal(kozomol, expected=rows[0][2])
        _export(kozomol, output)
    finally:
        kozomol.stop()
    elapsed = time.perf_counter() - started
    click.echo(f"\nKozomol demo, {datetime.now():%Y-%m-%d %H:%M}, embedded default\n")
    click.echo(f"{'delivery':<18}{'sent':>6}{'accepted':>10}{'duplicates':>12}{'rejected':>10}")
    for attempt, sent, accepted, duplicates, rejected in rows:
        click.echo(f"{attempt:<18}{sent:>6}{accepted:>10}{duplicates:>12}{rejected:>10}")
    click.echo(f"\nevents in the backup's journal record: {journal_count}")
    click.echo(f"took {elapsed:.1f} s; results in {output}")
    return output


def _wait_for_journal(kozomol: EmbeddedKozomol, expected: int, timeout: float = 30) -> int:
    backup = next(c for c in kozomol.consumers if c.name == "backup")
    deadline = time.monotonic() + timeout
    while True:
        with backup.engine.connect() as connection:
            found = int(connection.execute(select(func.count()).select_from(journal)).scalar_one())
        if found >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _export(kozomol: EmbeddedKozomol, output: Path) -> None:
    with kozomol.gateway.engine.connect() as connection:
        rejected = connection.execute(
            select(quarantine.c.received_at, quarantine.c.event_id, quarantine.c.event_type,
                   quarantine.c.errors).order_by(quarantine.c.id)).all()
    with (output / "quarantine.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["received_at", "event_id", "event_type", "errors"])
        for item in rejected:
            writer.writerow([item.received_at, item.event_id, item.event_type,
                             orjson.dumps(item.errors).decode()])
    backup = next(c for c in kozomol.consumers if c.name == "backup")
    with backup.engine.connect() as connection, \
            (output / "journal.jsonl").open("wb") as handle:
        for row in connection.execute(select(journal.c.seq, journal.c.hash, journal.c.body)
                                      .order_by(journal.c.seq)):
            handle.write(orjson.dumps({"seq": row.seq, "hash": row.hash,
                                       "event": orjson.loads(row.body)}) + b"\n")
