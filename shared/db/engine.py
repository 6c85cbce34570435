"""Engines for the embedded default (SQLite file) and production (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL and a busy timeout so threads can share it.

    The embedded default runs every service in one process on one SQLite file,
    so concurrent writers must wait for each other instead of failing.
    """
    parsed = make_url(url)
    # JSON columns through orjson: several times faster than the json module for the
    # large documents some tables hold (facts, reports).
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    # A failed statement's exception (and so its log line) must not carry the
    # values: they are children's names, marks and parents' phones.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take it over so that
        # a transaction really starts at BEGIN (needed for consistent reads).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # A database behind a partition must fail a connect in bounded time, not hang a
    # consumer (whose broker heartbeats would stop) or a request.
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("connect_timeout", 10)
    kwargs["connect_args"] = connect_args
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 5)
    return create_engine(_psycopg3(url), **kwargs)


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _psycopg3(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the only driver installed)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # autocommit at the driver; BEGIN is ours
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def is_postgresql(bind: Engine | Connection) -> bool:
    """Whether an engine or connection talks to PostgreSQL (else: SQLite, the embedded
    default), for the few statements the two write differently."""
    return bind.dialect.name == "postgresql"


def ping(engine: Engine) -> None:
    """Ask the database for nothing; raises (``DBAPIError``) when it does not answer."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
