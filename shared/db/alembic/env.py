"""Alembic environment shared by every service.

Each service keeps its own migrations under ``services/<name>/migrations`` as a
branch labelled with the service's name, so a service can be upgraded alone
against its own database, or all together against the embedded SQLite file.
"""

from alembic import context
from sqlalchemy import Connection

from shared.db.engine import make_engine


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        render_as_batch=connection.dialect.name == "sqlite",
        version_table="kozomol_schema_version",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as new_connection:
        _run(new_connection)
    engine.dispose()
