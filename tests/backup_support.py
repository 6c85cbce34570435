"""Helpers of the backup service's integration tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
from sqlalchemy import Engine

from kozomol.simulator.run import SimulationSpec, school_events
from services.backup.adapters import journal_store
from services.backup.adapters.crypto import new_key
from shared.events.envelope import Event
from shared.settings import Settings
from tests.support import POSTGRES_URL

SMALL = SimulationSpec(seed=3, parallels=1, grades=(5,), terms=(1,))


def backup_settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, backup_key=new_key(),
                   storage_url=(tmp_path / "files").as_uri(),
                   backup_storage_url=(tmp_path / "backups").as_uri())


def small_school_events(spec: SimulationSpec = SMALL) -> list[Event]:
    return [Event.from_envelope(e) for e in school_events(spec)]


def fill_journal(engine: Engine, events: list[Event]) -> None:
    with engine.begin() as connection:
        for start in range(0, len(events), 500):
            journal_store.append(connection, events[start:start + 500])


@contextmanager
def empty_database() -> Iterator[str]:
    """Another fresh PostgreSQL database (restore targets), dropped after."""
    name = f"kozomol_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
