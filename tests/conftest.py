"""Fixtures shared by every layer of the suite.

Integration tests use the real RabbitMQ and PostgreSQL of this machine
(``KOZOMOL_TEST_BROKER_URL`` / ``KOZOMOL_TEST_POSTGRES_URL`` to point elsewhere).
They never skip: a missing service is a failure, and ``.ci/run`` starts them.
Every test gets its own database and its own broker namespace, removed after.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shared.settings import SERVICES, Settings, load_settings, new_webhook_secret
from tests.support import BROKER_URL, POSTGRES_URL, delete_namespace


@pytest.fixture
def secret() -> str:
    return new_webhook_secret()


@pytest.fixture
def embedded_settings(tmp_path: Path, secret: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The embedded default (SQLite file + in-process broker) in a scratch folder."""
    for name in list(os.environ):
        if name.startswith("KOZOMOL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KOZOMOL_DATA_DIR", str(tmp_path / "var"))
    settings = load_settings()
    # A namespace per test: the in-process broker's state is global to the process.
    return replace(settings, webhook_secrets=(secret,),
                   namespace=f"t{secrets.token_hex(4)}", outbox_relay_interval=0.1)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped after the test."""
    name = f"kozomol_test_{secrets.token_hex(6)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def namespace() -> Iterator[str]:
    """A broker namespace of this test's own; its queues and exchanges are deleted after."""
    name = f"test{secrets.token_hex(4)}"
    yield name
    delete_namespace(name)


@pytest.fixture
def production_settings(
    embedded_settings: Settings, pg_url: str, namespace: str
) -> Settings:
    """Real PostgreSQL and RabbitMQ, quorum queues (the broker supports them)."""
    return replace(embedded_settings, database_url=pg_url, broker_url=BROKER_URL,
                   namespace=namespace, queue_type="auto", delivery_limit=3)


@pytest.fixture
def migrated() -> Callable[[Settings], Settings]:
    from shared.db.migrations import upgrade

    def apply(settings: Settings) -> Settings:
        for service in SERVICES:
            upgrade(settings.database_url_for(service), service, SERVICES)
        return settings

    return apply




@pytest.fixture
def gateway_client(migrated: Callable[[Settings], Settings]) -> Iterator[Callable[..., Any]]:
    """``make(settings)`` → (gateway, Flask test client); closed after the test."""
    from services.gateway.app import create_app
    from services.gateway.runtime import Gateway, bootstrap

    created: list[Gateway] = []

    def make(settings: Settings) -> tuple[Gateway, Any]:
        gateway = bootstrap(migrated(settings))
        created.append(gateway)
        return gateway, create_app(gateway).test_client()

    yield make
    for gateway in created:
        gateway.close()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """A skipped test is a missing test: any skip fails the run."""
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} test(s) skipped: every test must run here", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1
