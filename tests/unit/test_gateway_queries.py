"""The gateway's query modules read what its handlers wrote: through the engine, or inside
the caller's transaction; scoped to what a principal may see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from services.gateway.adapters.tables import metadata
from services.gateway.domain.access import Principal, Role
from services.gateway.handlers.classes import apply_roster_events
from services.gateway.handlers.command_slots import free_slots
from services.gateway.handlers.findings import apply_finding_events
from services.gateway.handlers.print_jobs import record_print_request
from services.gateway.queries import findings, print_jobs
from services.gateway.queries.findings import FindingsFilter
from shared.db.engine import make_engine
from shared.events.envelope import Event

NOW = datetime(2026, 11, 2, 8, tzinfo=UTC)
SCHOOL = "sch0001"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.sqlite3'}")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def finding(finding_id: str, teacher_id: str, class_id: str, day: int) -> Event:
    return Event(f"e-{finding_id}", "finding.opened", SCHOOL, NOW, {
        "id": finding_id, "school_id": SCHOOL, "rule": "R01", "clause": "2.1",
        "severity": "major", "responsible": "teacher", "status": "open",
        "class_id": class_id, "teacher_id": teacher_id, "date": f"2026-10-{day:02d}",
        "detected_at": NOW.isoformat(), "message": "тема не записана", "evidence": {}})


def test_a_query_joins_the_callers_transaction(engine: Engine) -> None:
    with engine.begin() as connection:
        apply_finding_events(connection, [finding("f1", "t1", "5A", 1)])
        admin = Principal("tok", Role.ADMIN, None)
        assert findings.visible(connection, admin, "f1") is not None  # not yet committed
    assert findings.visible(engine, admin, "f1") is not None


def test_findings_are_scoped_to_the_principal(engine: Engine) -> None:
    with engine.begin() as connection:
        apply_finding_events(connection, [finding("f1", "t1", "5A", 1),
                                          finding("f2", "t2", "5A", 2),
                                          finding("f3", "t2", "6B", 3)])
        apply_roster_events(connection, [Event("r1", "class.roster", SCHOOL, NOW,
                                               {"class_id": "5A", "homeroom_teacher_id": "t1"})])
    teacher = Principal("tok1", Role.TEACHER, SCHOOL, "t2")
    class_teacher = Principal("tok2", Role.CLASS_TEACHER, SCHOOL, "t1")
    deputy = Principal("tok3", Role.DEPUTY, SCHOOL)
    everything = FindingsFilter(school_id=SCHOOL)

    def ids(who: Principal, wanted: FindingsFilter = everything) -> list[str]:
        return [row["id"] for row in findings.page(engine, who, wanted, None, 10)]

    assert ids(teacher) == ["f3", "f2"]
    assert ids(class_teacher) == ["f2", "f1"]  # their own and their class's
    assert ids(deputy) == ["f3", "f2", "f1"]
    assert ids(deputy, FindingsFilter(school_id=SCHOOL, date_from=date(2026, 10, 2),
                                      equal={"class_id": "5A"})) == ["f2"]
    assert [row["id"] for row in findings.page(engine, deputy, everything,
                                               (date(2026, 10, 3), "f3"), 1)] == ["f2", "f1"]
    assert findings.visible(engine, teacher, "f1") is None
    assert findings.visible(engine, Principal("tok4", Role.DEPUTY, "sch0002"), "f1") is None
    assert [row["id"] for row in findings.of_class(engine, class_teacher, SCHOOL, "6B")] == []


def test_one_print_job_of_a_kind_at_a_time(engine: Engine) -> None:
    def ask(job_id: str, connection: Connection | None = None) -> str | None:
        if connection is None:
            with engine.begin() as own:
                return ask(job_id, own)
        return record_print_request(connection, job_id=job_id, school_id=SCHOOL,
                                    kind="class_journal", parameters={"class_id": "5A"},
                                    requested_by="deputy:tok", teacher_id=None, now=NOW)

    # a request whose transaction fails (its command could not be recorded) leaves nothing
    with pytest.raises(RuntimeError), engine.begin() as connection:
        assert ask("job-0", connection) is None
        raise RuntimeError("the command outbox refused the row")
    assert print_jobs.job(engine, "job-0") is None
    assert ask("job-1") is None
    assert ask("job-2") == "job-1"
    assert print_jobs.job(engine, "job-2") is None  # the refused one left nothing
    with engine.begin() as connection:  # the printer's answer frees the slot
        free_slots(connection, [Event("p1", "print.failed", SCHOOL, NOW,
                                      {"job_id": "job-1", "reason": "test"})])
    assert ask("job-3") is None
    with engine.begin() as connection:  # the printer's answer frees the slot
        free_slots(connection, [Event("p1", "print.completed", SCHOOL, NOW,
                                      {"job_id": "job-3"})])
    assert ask("job-4") is None
    assert [row["id"] for row in print_jobs.listing(engine, SCHOOL, {}, 10)] == \
        ["job-4", "job-3", "job-1"]
