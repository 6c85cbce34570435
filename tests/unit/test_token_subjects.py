"""`kozomol tokens create` for a school or teacher Kozomol does not know: a teacher the
school does not have is refused; a school not heard from yet is created with a warning."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from kozomol.cli import main
from services.gateway.adapters.tables import api_tokens
from services.gateway.handlers.names import apply_name_events
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES


@pytest.fixture
def gateway_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    upgrade(url, "gateway", SERVICES)
    engine = make_engine(url)
    with engine.begin() as connection:
        apply_name_events(connection, [Event(
            "e1", "teacher.profile", "sch0001", datetime(2026, 8, 26, 4, tzinfo=UTC),
            {"teacher_id": "sch0001-t001", "full_name": "Асанова Айгуль Бакытовна"})])
    engine.dispose()
    monkeypatch.setenv("KOZOMOL_DATABASE_URL", url)
    monkeypatch.setenv("KOZOMOL_DATA_DIR", str(tmp_path))
    return url


def _tokens(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).select_from(api_tokens))
                    .scalar_one())
    engine.dispose()
    return count


def test_an_unknown_teacher_of_a_known_school_is_refused(gateway_url: str) -> None:
    result = CliRunner().invoke(main, ["tokens", "create", "--role", "teacher", "--school",
                                       "sch0001", "--teacher", "nobody"])
    assert result.exit_code == 1 and "учителя nobody в школе sch0001 нет" in result.output
    assert _tokens(gateway_url) == 0
    known = CliRunner().invoke(main, ["tokens", "create", "--role", "teacher", "--school",
                                      "sch0001", "--teacher", "sch0001-t001"])
    assert known.exit_code == 0 and "предупреждение" not in known.output
    assert _tokens(gateway_url) == 1


def test_a_school_not_heard_from_yet_gets_its_token_with_a_warning(gateway_url: str) -> None:
    result = CliRunner().invoke(main, ["tokens", "create", "--role", "teacher", "--school",
                                       "sch9999", "--teacher", "nobody"])
    assert result.exit_code == 0
    assert "предупреждение: школа sch9999 ещё не известна Kozomol" in result.output
    assert "учителя nobody проверить нельзя" in result.output
    assert _tokens(gateway_url) == 1
