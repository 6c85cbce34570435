"""The printer's copy of the journal and the class journal it prints (pure layer + renderer)."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from services.printer.domain.copy import class_copy
from services.printer.domain.journal import (
    Column,
    NotPrintable,
    build_journal,
    pack_columns,
)
from services.printer.render.journal import COLUMNS_PER_PAGE, render_journal, sheets_word
from tests.printer_support import (
    FONT_DIR,
    fold_all,
    font_report,
    ink,
    latest,
    page_texts,
    pdfa_report,
    school_of,
    simulated,
)


def _state(records: dict) -> dict:
    return {key: (r.class_id, r.stamp, r.data, r.deleted_stamp, r.live)
            for key, r in records.items()}


def test_the_copy_is_the_same_whatever_the_order_and_the_duplicates() -> None:
    events = list(simulated())
    shuffled = events + random.Random(3).sample(events, len(events) // 10)
    random.Random(5).shuffle(shuffled)
    assert _state(fold_all(shuffled)) == _state(fold_all(events))


def test_a_deletion_counts_only_against_older_data() -> None:
    lesson = {"lesson_id": "l1", "class_id": "5a", "subject_id": "math", "date": "2026-09-02",
              "period": 1, "teacher_id": "t1", "topic": "Дроби"}

    def event(number: int, event_type: str, minute: int, data: dict) -> dict:
        return {"id": f"e{number}", "type": event_type, "school_id": "s1",
                "occurred_at": f"2026-09-02T10:{minute:02d}:00+06:00", "data": data}

    recorded = event(1, "lesson.recorded", 1, lesson)
    deleted = event(2, "lesson.deleted", 2, {"lesson_id": "l1"})
    again = event(3, "lesson.recorded", 3, {**lesson, "topic": "Дроби, повторение"})
    for order in ([recorded, deleted], [deleted, recorded], [deleted, recorded, deleted]):
        record = fold_all(order)[("lesson", "l1")]
        assert not record.live and record.class_id == "5a"
    for order in ([recorded, deleted, again], [again, deleted, recorded], [deleted, again]):
        record = fold_all(order)[("lesson", "l1")]
        assert record.live and record.data["topic"] == "Дроби, повторение"


def test_columns_are_packed_by_month_within_the_page() -> None:
    days = [date(2026, 9, d) for d in range(1, 29)] + [date(2026, 10, d) for d in range(1, 10)]
    columns = [Column("lesson", d, f"{d.day:02d}", lesson_id=str(i))
               for i, d in enumerate(days)]
    columns.append(Column("final", date(2026, 10, 31), "I ч.", term_id="q1"))
    pages = pack_columns(columns, 20)
    # September is split; its rest shares a page with October and its term mark
    assert [len(p) for p in pages] == [20, 18]
    assert all(len(p) <= 20 for p in pages)
    assert sum(len(p) for p in pages) == len(columns)
    small = pack_columns(columns[:5] + columns[28:], 36)
    assert len(small) == 1


def test_the_word_for_sheets_agrees_with_the_number() -> None:
    assert [sheets_word(n) for n in (1, 2, 5, 11, 21, 22, 112, 125)] == [
        "лист", "листа", "листов", "листов", "лист", "листа", "листов", "листов"]


def test_a_class_without_roster_is_not_printable() -> None:
    events = simulated()
    copy = class_copy(school_of(events), "nope", fold_all(events).values())
    with pytest.raises(NotPrintable):
        build_journal(copy)


@pytest.fixture(scope="module")
def term_journal() -> tuple:
    events = simulated()
    records = fold_all(events)
    class_id = next(r.key for r in records.values() if r.kind == "class")
    copy = class_copy(school_of(events), class_id, records.values())
    journal = build_journal(copy, "q1" if any(
        t["id"] == "q1" for t in copy.calendar["terms"]) else copy.calendar["terms"][0]["id"])
    pdf = render_journal(journal, FONT_DIR)
    return events, copy, journal, pdf


def test_every_live_mark_is_in_its_lesson_column(term_journal: tuple) -> None:
    events, copy, journal, _ = term_journal
    marks = latest(events, "mark.recorded", "mark_id")
    deleted = latest(events, "mark.deleted", "mark_id")
    live_ids = {m["mark_id"] for m in copy.marks}
    assert live_ids <= set(marks)
    assert not live_ids & {m for m in deleted if m not in live_ids}
    checked = 0
    for section in journal.sections:
        index = {c.lesson_id: i for i, c in enumerate(section.columns) if c.lesson_id}
        members = {s.student_id for s in section.students}
        for mark in copy.marks:
            if (mark["subject_id"] == section.subject_id and mark["student_id"] in members
                    and mark.get("kind") == "current" and mark.get("lesson_id") in index):
                cell = section.cells[(mark["student_id"], index[mark["lesson_id"]])]
                assert mark["value"] in cell.split()
                checked += 1
    assert checked > 100


def test_an_exempt_student_is_marked_where_the_cell_is_empty(term_journal: tuple) -> None:
    _, copy, journal, _ = term_journal
    section = journal.sections[0]
    student = section.students[0]
    lessons = [c for c in section.columns if c.kind == "lesson"]
    first, last = lessons[2].day.isoformat(), lessons[8].day.isoformat()
    exemption = {"student_id": student.student_id, "subject_id": section.subject_id,
                 "from": first, "to": last, "reason": "освобождение по здоровью"}
    again = build_journal(replace(copy, exemptions=[exemption]), journal.terms[0].term_id)
    changed = next(s for s in again.sections if s.title == section.title)
    for index, column in enumerate(section.columns):
        before = section.cells.get((student.student_id, index), "")
        after = changed.cells.get((student.student_id, index), "")
        inside = column.kind == "lesson" and first <= column.day.isoformat() <= last
        assert after == (before or "осв" if inside else before)
    assert any(v == "осв" for (sid, _), v in changed.cells.items() if sid == student.student_id)


def test_the_journal_pdf_shows_the_data_page_by_page(term_journal: tuple,
                                                     tmp_path: Path) -> None:
    _, copy, journal, pdf = term_journal
    texts = page_texts(pdf.body)
    assert len(texts) == pdf.pages > 10
    # every page numbered and headed with the class and the year
    for number, text in enumerate(texts, start=1):
        assert f"Лист {number}" in text
        assert f"Класс {journal.class_name}" in text and journal.academic_year in text
    assert f"пронумеровано и прошнуровано {pdf.pages} {sheets_word(pdf.pages)}" in texts[-1]
    whole = "\n".join(texts)
    for entry in copy.roster["students"]:
        assert entry["full_name"] in whole
    assert re.search("[ңөүҢӨҮ]", whole), "Kyrgyz letters come out as text"
    # every subject's grid: each student's row reads as the cells of the model, in order
    for section in journal.sections:
        pages = [t for t in texts if t.startswith(section.title + " — учитель")
                 and "что пройдено на уроках" not in t.splitlines()[0]]
        assert pages, section.title
        grid = pack_columns(section.columns, COLUMNS_PER_PAGE)
        assert len(pages) == len(grid)
        for text, columns in zip(pages, grid, strict=True):
            lines = text.splitlines()
            for student in section.students:
                cells = [section.cells.get((student.student_id, i), "") for i in columns]
                expected = " ".join([str(student.number), student.full_name]
                                    + [c for c in cells if c])
                assert expected in lines, (section.title, expected)
    # topics, homework, dates and teachers on the pages facing the grids
    for lesson in copy.lessons[:200]:
        day = date.fromisoformat(lesson["date"]).strftime("%d.%m.%Y")
        topic = (lesson.get("topic") or "").strip()
        if topic and len(topic) < 60:
            assert any(day in t and topic in t for t in texts), (day, topic)


def test_the_journal_pdf_is_pdfa_with_embedded_fonts_and_draws_ink(
        term_journal: tuple, tmp_path: Path) -> None:
    _, _, _, pdf = term_journal
    fonts = font_report(pdf.body)
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert all("DejaVu" in name for name, _ in fonts)
    report = pdfa_report(pdf.body)
    assert report["part"] == "2" and report["conformance"] == "B"
    assert report["title"] == report["docinfo_title"] and "Классный журнал" in report["title"]
    assert report["intents"] == ["/GTS_PDFA1"] and report["icc_bytes"][0] > 300
    assert not report["encrypted"]
    assert report["docinfo_matches_xmp"] and report["metadata_unfiltered"] and report["has_id"]
    for page in (0, 2, pdf.pages - 1):
        png = tmp_path / f"page{page}.png"
        assert ink(pdf.body, page, png) > 1000
        assert png.stat().st_size > 0


def test_the_year_journal_has_term_and_year_marks() -> None:
    events = simulated(grades=(9,), terms=(1, 2))
    records = fold_all(events)
    class_id = next(r.key for r in records.values() if r.kind == "class")
    copy = class_copy(school_of(events), class_id, records.values())
    journal = build_journal(copy)
    labels = {c.label for s in journal.sections for c in s.columns if c.kind == "final"}
    assert {"I ч.", "II ч.", "Год"} <= labels
    quarter_marks = [m for m in copy.marks if m.get("kind") == "quarter"]
    assert quarter_marks
    for mark in quarter_marks[:50]:
        section = next(s for s in journal.sections if s.subject_id == mark["subject_id"]
                       and mark["student_id"] in {x.student_id for x in s.students})
        column = next(i for i, c in enumerate(section.columns) if c.term_id == mark["term_id"])
        assert section.cells[(mark["student_id"], column)] == mark["value"]
    pdf = render_journal(journal, FONT_DIR)
    texts = page_texts(pdf.body)
    assert len(texts) == pdf.pages
    assert any("Итоговые отметки" in t for t in texts)
    assert any("Сведения о посещаемости" in t for t in texts)


def test_the_remarks_sheet_shows_the_findings_latest_state() -> None:
    events = list(simulated())
    school_id = school_of(events)
    roster = next(e["data"] for e in events if e["type"] == "class.roster")
    plan = next(e["data"] for e in events if e["type"] == "subject.plan")
    teacher = next(e["data"] for e in events if e["type"] == "teacher.profile"
                   and e["data"]["teacher_id"] == plan["teacher_id"])

    def finding(number: int, event_type: str, status: str, minute: int, *, finding_id: str,
                message: str) -> dict:
        return {"id": f"chk-{number}", "type": event_type, "school_id": school_id,
                "occurred_at": f"2026-10-02T10:{minute:02d}:00+00:00",
                "data": {"id": finding_id, "rule": "lesson.topic.missing", "clause": "4.4",
                         "severity": "major", "responsible": "teacher", "status": status,
                         "school_id": school_id, "class_id": roster["class_id"],
                         "subject_id": plan["subject_id"], "subgroup": None,
                         "teacher_id": plan["teacher_id"], "student_id": None,
                         "lesson_id": None, "mark_id": None, "term_id": None,
                         "message": message, "evidence": {}, "date": "2026-09-15",
                         "detected_at": "2026-10-02T10:00:00+00:00", "history": []}}

    topic = "Не записана тема урока"
    fixed_later = [finding(1, "finding.opened", "open", 1, finding_id="f1", message=topic),
                   finding(2, "finding.updated", "fixed", 5, finding_id="f1", message=topic)]
    fixed_later[1]["data"]["history"] = [
        {"at": "2026-10-02T10:00:00+00:00", "status": "open", "actor": "checker",
         "comment": None},
        {"at": "2026-10-07T08:00:00+00:00", "status": "fixed",
         "actor": "заместитель директора (токен t1)", "comment": "тема внесена"}]
    withdrawn = finding(3, "finding.closed", "withdrawn", 2, finding_id="f2",
                        message="Снято проверкой")
    still_open = finding(4, "finding.opened", "open", 3, finding_id="f3",
                         message="Не выставлена отметка «ң»")
    records = fold_all([*events, fixed_later[1], withdrawn, still_open, fixed_later[0]])
    copy = class_copy(school_id, roster["class_id"], records.values())
    journal = build_journal(copy)
    assert [(r.message, r.status) for r in journal.remarks] == [
        ("Не выставлена отметка «ң»", "не устранено"),
        ("Не записана тема урока", "устранено")]
    assert {r.teacher for r in journal.remarks} == {teacher["full_name"]}
    texts = page_texts(render_journal(journal, FONT_DIR).body)
    sheet = next(t for t in texts if "Лист замечаний по ведению классного журнала" in t)
    assert "Не записана тема урока" in sheet and "устранено" in sheet
    assert "02.10.2026" in sheet and "Снято проверкой" not in sheet  # the date of the check
    assert "07.10.2026" in sheet and "тема внесена" in sheet  # when fixed, and the comment


def test_a_short_grid_shares_its_page_with_the_next_part(tmp_path: Path) -> None:
    """Issue 15: "packs its grids so a page is mostly used" — a subgroup of 13 students."""
    events = simulated(grades=(9,), terms=(1, 2))
    records = fold_all(events)
    class_id = next(r.key for r in records.values() if r.kind == "class")
    journal = build_journal(class_copy(school_of(events), class_id, records.values()))
    section = max(journal.sections, key=lambda s: len(s.columns))
    short = replace(section, students=section.students[:13])
    parts = len(pack_columns(short.columns, COLUMNS_PER_PAGE))
    assert parts >= 2
    pdf = render_journal(replace(journal, sections=[short]), FONT_DIR)
    texts = page_texts(pdf.body)
    grid_pages = [number for number, text in enumerate(texts)
                  if f"{short.title} — учитель" in text and "(часть " in text
                  and "что пройдено" not in text]
    # every part is printed, every student's row in each of them …
    for part in range(1, parts + 1):
        holding = [n for n in grid_pages if f"(часть {part} из {parts})" in texts[n]]
        assert len(holding) == 1, part
        assert texts[holding[0]].count(short.students[12].full_name) >= 1
    # … two or more parts to a page, so a grid page is mostly used
    assert len(grid_pages) <= (parts + 1) // 2
    assert any(f"(часть 2 из {parts})" in texts[n] and f"(часть 1 из {parts})" in texts[n]
               for n in grid_pages)
    # the lessons page facing a shared page names the parts it covers
    assert any(f"(части 1–2 из {parts}): что пройдено на уроках" in t for t in texts)
    shared = [n for n in grid_pages if texts[n].count("(часть ") >= 2]
    assert shared
    for number in shared:
        assert _lowest_ink(pdf.body, number, tmp_path / f"grid{number}.png") > 0.6


def _lowest_ink(body: bytes, page: int, png: Path) -> float:
    """How far down the page (0 top, 1 bottom) the lowest drawn row is, the footer left out."""
    ink(body, page, png)
    image = Image.open(png).convert("L")
    width, height = image.size
    rows = [y for y in range(int(height * 0.93))
            if image.crop((0, y, width, y + 1)).getextrema()[0] < 200]  # type: ignore[operator]
    return max(rows) / height
