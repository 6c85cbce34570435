"""Settings: defaults, validation, and one documented place for all of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.settings import SERVICES, SettingsError, load_settings, new_webhook_secret

SETTINGS_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "settings.py"
CONFIGURATION_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("KOZOMOL_"):
            monkeypatch.delenv(name)


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.broker_url == "memory://"
    assert settings.embedded_broker
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == ""
    # each service its own SQLite file (one writer per file)
    assert settings.database_url_for("checker") == \
        f"sqlite:///{tmp_path / 'var' / 'checker.sqlite3'}"
    assert len({settings.database_url_for(name) for name in SERVICES}) == len(SERVICES)
    assert settings.webhook_secrets == ()


def test_per_service_database_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOZOMOL_DATABASE_URL", "postgresql://db/main")
    monkeypatch.setenv("KOZOMOL_CHECKER_DATABASE_URL", "postgresql://db/checker")
    settings = load_settings()
    assert settings.database_url_for("checker") == "postgresql://db/checker"
    assert settings.database_url_for("gateway") == "postgresql://db/main"


def test_secrets_list_for_rotation(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    monkeypatch.setenv("KOZOMOL_WEBHOOK_SECRETS", f"{old}, {new}")
    assert load_settings().webhook_secrets == (old, new)


@pytest.mark.parametrize(("name", "value", "mentions"), [
    ("KOZOMOL_WEBHOOK_SECRETS", "plain-text", "whsec_"),
    ("KOZOMOL_WEBHOOK_SECRETS", "whsec_c2hvcnQ=", "24 random bytes"),
    ("KOZOMOL_QUEUE_TYPE", "stream", "KOZOMOL_QUEUE_TYPE"),
    ("KOZOMOL_PREFETCH", "not-a-number", "PREFETCH"),
    ("KOZOMOL_DELIVERY_LIMIT", "0", "KOZOMOL_DELIVERY_LIMIT"),
])
def test_bad_settings_are_refused_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, mentions: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=mentions):
        load_settings()


def test_every_setting_is_documented_in_one_place() -> None:
    source = SETTINGS_SOURCE.read_text()
    names = set(re.findall(r'env\.(?:str|int|float|bool)\(\s*"([A-Z_]+)"', source))
    names |= {f"{service.upper()}_DATABASE_URL" for service in SERVICES}
    assert len(names) > 15
    documented = CONFIGURATION_DOC.read_text()
    missing = sorted(n for n in names if f"`KOZOMOL_{n}`" not in documented)
    assert not missing, f"not in docs/configuration.md: {missing}"


def test_relative_paths_are_resolved_once_where_the_settings_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from shared.settings import absolute_storage_url

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KOZOMOL_DATA_DIR", "var")
    monkeypatch.setenv("KOZOMOL_STORAGE_URL", "files")
    settings = load_settings()
    assert settings.data_dir == tmp_path / "var"
    assert settings.files_url == (tmp_path / "files").as_uri()
    assert settings.database_url_for("checker") == f"sqlite:///{tmp_path}/var/checker.sqlite3"
    # A copy made with a relative folder (the demo's --output) is resolved too.
    moved = replace(settings, data_dir=Path("results"), storage_url="")
    assert moved.files_url == (tmp_path / "results" / "files").as_uri()
    assert absolute_storage_url("file:relative/x") == (tmp_path / "relative" / "x").as_uri()
    # …and another working directory later does not move it.
    monkeypatch.chdir("/")
    assert moved.files_url == (tmp_path / "results" / "files").as_uri()
    assert absolute_storage_url("file:///srv/files") == "file:///srv/files"
    assert absolute_storage_url("s3://bucket/prefix") == "s3://bucket/prefix"
