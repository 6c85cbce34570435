"""Database plumbing shared by the services: engines, migrations, idempotent inserts."""
