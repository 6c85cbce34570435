"""Apply the services' Alembic migrations (``kozomol db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

_REPO_PACKAGES = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str, services: tuple[str, ...]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "alembic"))
    config.set_main_option(
        "version_locations",
        " ".join(str(_REPO_PACKAGES / "services" / name / "migrations") for name in services),
    )
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, service: str, all_services: tuple[str, ...]) -> None:
    """Bring ``service``'s tables in ``database_url`` to the newest revision."""
    command.upgrade(alembic_config(database_url, all_services), f"{service}@head")
