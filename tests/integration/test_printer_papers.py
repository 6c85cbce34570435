"""Papers a school can bind and hand out (issue 15), printed by the printer's use case on
SQLite from simulated events, then opened: text, pages, fonts, bookmarks, file names."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from services.printer.adapters import copy_store
from services.printer.adapters.tables import jobs
from services.printer.handlers import Printer
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.messaging.topology import PRINTER_COPIES
from shared.settings import Settings
from shared.storage import open_store
from tests.printer_support import FONT_DIR, font_report, ink, page_texts, simulated

GRADES = (1, 2, 10)  # ids 10a < 1a < 2a as text; a school lists 1 «А», 2 «А», 10 «А»


@pytest.fixture
def school(embedded_settings: Settings, migrated: Any) -> Iterator[tuple[Engine, Settings,
                                                                        list[dict[str, Any]]]]:
    settings = migrated(embedded_settings)
    events = [e for e in simulated(grades=GRADES) if e["type"] in PRINTER_COPIES]
    engine = make_engine(settings.database_url_for("printer"))
    with engine.begin() as connection:
        copy_store.ingest(connection, [Event.from_envelope(e) for e in events])
    try:
        yield engine, settings, events
    finally:
        engine.dispose()


def _calendar(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(e["data"] for e in events if e["type"] == "school.calendar")


def _q1(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next(t for t in _calendar(events)["terms"] if t["kind"] == "quarter"
                and t["number"] == 1)


def _print(school: tuple[Engine, Settings, list[dict[str, Any]]], job_id: str, kind: str,
           parameters: dict[str, Any], today: date, *,
           progress: list[tuple[str, str, int, int]] | None = None) -> tuple[Any, bytes]:
    engine, settings, events = school
    clock = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=6)
    printer = Printer(open_store(settings.files_url), FONT_DIR, clock=lambda: clock,
                      progress=None if progress is None else lambda *told: progress.append(
                          told))
    school_id = events[0]["school_id"]
    with engine.begin() as connection:
        printer.run_job(connection, school_id, job_id, kind=kind, parameters=parameters,
                        requested_by="test")
    with engine.connect() as connection:
        job = connection.execute(select(jobs).where(jobs.c.job_id == job_id)).one()
    assert job.status == "completed", job.reason
    return job, open_store(settings.files_url).get(job.file_key)


def _outline(body: bytes) -> list[Any]:
    return PdfReader(io.BytesIO(body)).outline


def _titles(items: list[Any]) -> list[str]:
    return [item.title for item in items if not isinstance(item, list)]


def test_the_class_journal_is_headed_with_names_has_contents_legend_and_bookmarks(
        school: tuple, tmp_path: Any) -> None:
    events = school[2]
    calendar, q1 = _calendar(events), _q1(events)
    after_q1 = date.fromisoformat(q1["end"]) + timedelta(days=10)
    job, body = _print(school, "job-j", "class_journal",
                       {"class_id": "1a", "term_id": q1["id"]}, after_q1)
    # a readable name, in the job's own folder (the download and the backup show it)
    assert job.file_key == f"pdf/{events[0]['school_id']}/job-j/1А_журнал_2026-2027_I-четверть.pdf"
    texts = page_texts(body)
    title = texts[0]
    assert calendar["school_name"] in title and calendar["school_address"] in title
    assert calendar["director_name"] in title and "Класс: 1 «А»" in title
    assert "sch0" not in "".join(texts)  # no school id anywhere on the papers
    # every page: the school's name in the head, printed at local time (UTC+6)
    assert all(calendar["school_name"] in text for text in texts)
    local = (datetime.combine(after_q1, datetime.min.time()) + timedelta(hours=12))
    assert all(f"Напечатано {local:%d.%m.%Y} 12:00" in text for text in texts)
    # contents with page numbers, and the legend of every code
    contents = texts[1]
    assert "Содержание" in contents and "Условные обозначения" in contents
    for code, meaning in (("н", "отсутствовал"), ("б", "по болезни"), ("о", "опоздал"),
                          ("осв", "освобождён"), ("—", "период окончен")):
        assert code in contents and meaning in contents
    remarks_page = next(i for i, t in enumerate(texts)
                        if "Лист замечаний по ведению классного журнала" in t)
    lines = [line.strip() for line in contents.splitlines()]
    entry = lines.index("Лист замечаний")  # then the page it is on
    assert lines[entry + 1] == str(remarks_page + 1)
    # the bookmarks: the journal, its sections, each subject under "Предметы"
    outline = _outline(body)
    assert _titles(outline) == ["Классный журнал 1 «А»"]
    sections = _titles(outline[1])
    assert sections[:2] == ["Список обучающихся", "Предметы: отметки и пройденные темы"]
    assert sections[-3:] == ["Итоговые отметки", "Лист замечаний", "Заверительная надпись"]
    # grid pages: the column says what it prints, and the legend is under every grid
    grids = [t for t in texts if "учитель:" in t and "I ч." in t]
    assert grids and all("Фамилия, имя, отчество" in t and "«н» — отсутствовал" in t
                         for t in grids)
    assert all(embedded for _, embedded in font_report(body))
    # the contents are drawn onto their page as a form: its fonts are embedded too
    with pikepdf.open(io.BytesIO(body)) as pdf:
        forms = list(pdf.pages[1].Resources.XObject.values())
        fonts = [font for form in forms for font in form.Resources.Font.values()]
        assert fonts and all("/FontFile2" in (font.get("/FontDescriptor")
                                              or font.DescendantFonts[0].FontDescriptor)
                             for font in fonts)
    assert ink(body, 1, tmp_path / "contents.png") > 1000


def test_an_overdue_final_mark_is_marked_missing_and_a_mark_not_yet_due_is_empty(
        school: tuple) -> None:
    engine, _, events = school
    q1 = _q1(events)
    final = next(e for e in events if e["type"] == "mark.recorded"
                 and e["data"]["kind"] == "quarter" and e["data"]["class_id"] == "2a")
    deleted = {**final, "id": "del-final", "type": "mark.deleted",
               "occurred_at": (datetime.fromisoformat(final["occurred_at"])
                               + timedelta(minutes=5)).isoformat(),
               "data": {"mark_id": final["data"]["mark_id"]}}
    with engine.begin() as connection:
        copy_store.ingest(connection, [Event.from_envelope(deleted)])
    student = next(s["full_name"] for e in events if e["type"] == "class.roster"
                   and e["data"]["class_id"] == "2a" for s in e["data"]["students"]
                   if s["student_id"] == final["data"]["student_id"])
    subject = final["data"]["subject_name"]

    def final_cell(today: date) -> str:
        _, body = _print(school, f"job-{today}", "class_journal",
                         {"class_id": "2a", "term_id": q1["id"]}, today)
        page = next(t for t in page_texts(body) if t.startswith(f"{subject}") or
                    f"\n{subject} — учитель" in t or t.startswith(f"{subject} — учитель"))
        line = next(line for line in page.splitlines() if student in line)
        return line.split()[-1]

    assert final_cell(date.fromisoformat(q1["end"]) + timedelta(days=3)) == "—"
    # the day the quarter ends its mark is not yet overdue: the row ends with no "—"
    assert final_cell(date.fromisoformat(q1["end"])) != "—"


def test_the_remarks_sheet_prints_blank_with_the_columns_a_deputy_fills(school: tuple) -> None:
    events = school[2]
    job, body = _print(school, "job-blank", "remarks_sheet",
                       {"class_id": "10a", "blank": True}, date(2026, 9, 1))
    assert job.file_key.endswith("/10А_лист-замечаний-бланк_2026-2027.pdf")
    (text,) = page_texts(body)
    for column in ("Дата проверки", "Что выявлено", "Дата устранения", "Подпись учителя"):
        assert column in text.replace("\n", " ") or all(
            word in text for word in column.split())
    assert "10 «А»" in text and _calendar(events)["school_name"] in text
    numbers = [line for line in text.splitlines() if line.strip().isdigit()]
    assert len(numbers) >= 20  # numbered empty rows to write in by hand


def test_every_class_journal_of_the_school_prints_as_one_pdf_with_a_bookmark_per_class(
        school: tuple) -> None:
    events = school[2]
    q1 = _q1(events)
    told: list[tuple[str, str, int, int]] = []
    job, body = _print(school, "job-all", "class_journals",
                       {"term_id": q1["id"]}, date(2026, 11, 20), progress=told)
    # progress after each journal, while the one job prints
    assert [(job_id, done, total) for _, job_id, done, total in told] == [
        ("job-all", 1, 3), ("job-all", 2, 3), ("job-all", 3, 3)]
    name = _calendar(events)["school_name"].replace(" ", "_")
    assert job.file_key.endswith(f"/журналы_{name}_2026-2027_I-четверть.pdf")
    outline = _outline(body)
    assert _titles(outline) == ["Классный журнал 1 «А»", "Классный журнал 2 «А»",
                                "Классный журнал 10 «А»"]
    reader = PdfReader(io.BytesIO(body))
    starts = [reader.get_destination_page_number(item) for item in outline]
    assert starts[0] == 0 and starts == sorted(starts)
    assert "Класс: 2 «А»" in reader.pages[starts[1]].extract_text()
    assert job.pages == len(reader.pages)


def test_every_student_report_of_a_class_prints_as_one_zip_with_readable_names(
        school: tuple) -> None:
    events = school[2]
    q1 = _q1(events)
    job, body = _print(school, "job-zip", "student_reports",
                       {"class_id": "2a", "term_id": q1["id"], "bundle": "zip"},
                       date(2026, 11, 20))
    assert job.file_key.endswith("/2А_отчёты-родителям_2026-2027_I-четверть.zip")
    roster = next(e["data"] for e in events if e["type"] == "class.roster"
                  and e["data"]["class_id"] == "2a")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        first = archive.read(names[0])
    expected = {f"2А_{s['full_name'].replace(' ', '_')}_отчёт_2026-2027_I-четверть.pdf"
                for s in roster["students"]}
    assert set(names) == expected
    assert roster["students"][0]["full_name"] in page_texts(first)[0]


def test_a_batchs_progress_is_announced_beside_it_and_shown_by_the_api(
        production_settings: Settings, migrated: Any) -> None:
    """On PostgreSQL the printer announces progress in a transaction of its own (while the
    batch's is open); the gateway's read model shows it while the job is pending, and a
    late or repeated progress event never sets it back."""
    import orjson

    from services.gateway.adapters.tables import print_jobs_view
    from services.gateway.handlers.print_jobs import apply_print_events
    from services.gateway.web.print_jobs import _item
    from services.printer.adapters.tables import outbox
    from services.printer.main import progress_announcer

    settings = migrated(production_settings)
    printer_db = make_engine(settings.database_url_for("printer"))
    gateway_db = make_engine(settings.database_url_for("gateway"))
    try:
        announce = progress_announcer(printer_db, lambda: datetime.now(UTC))
        with printer_db.begin() as batch:  # the batch's own transaction stays open …
            batch.execute(select(jobs)).all()
            announce("sch0001", "job-b", 1, 4)
            announce("sch0001", "job-b", 2, 4)
        with printer_db.connect() as connection:  # … and the progress is committed apart
            told = [orjson.loads(row.body) for row in connection.execute(select(outbox))]
        assert [(e["type"], e["data"]["done"]) for e in told] == [
            ("print.progress", 1), ("print.progress", 2)]
        now = datetime.now(UTC)
        with gateway_db.begin() as connection:
            connection.execute(print_jobs_view.insert().values(
                id="job-b", school_id="sch0001", kind="class_journals", status="pending",
                parameters={}, requested_by="deputy:t1", requested_at=now))
            apply_print_events(connection, [Event.from_envelope(e) for e in reversed(told)])
        with gateway_db.connect() as connection:
            row = connection.execute(select(print_jobs_view)).one()._mapping
        assert _item(row)["progress"] == {"done": 2, "total": 4}  # the newest, in any order
        done = {"id": "prn-done", "type": "print.completed", "school_id": "sch0001",
                "occurred_at": now.isoformat(),
                "data": {"job_id": "job-b", "kind": "class_journals", "documents": 4,
                         "file_key": "pdf/sch0001/job-b/x.pdf", "sha256": "ab" * 32,
                         "pages": 100, "bytes": 1000}}
        with gateway_db.begin() as connection:
            apply_print_events(connection, [Event.from_envelope(done),
                                            Event.from_envelope(told[0])])
        with gateway_db.connect() as connection:
            row = connection.execute(select(print_jobs_view)).one()._mapping
        assert row["status"] == "completed"
        assert _item(row)["progress"] == {"done": 4, "total": 4}
    finally:
        printer_db.dispose()
        gateway_db.dispose()
