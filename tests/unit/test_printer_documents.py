"""The printer's other documents: any report.ready, a student's term report, the final statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.printer.domain.copy import class_copy
from services.printer.domain.requests import parameter_errors
from services.printer.domain.statements import build_final_statement, build_student_report
from services.printer.render.documents import (
    cell_text,
    render_final_statement,
    render_report,
    render_student_report,
)
from tests.printer_support import (
    FONT_DIR,
    fill_rate_report,
    fold_all,
    font_report,
    ink,
    page_texts,
    pdfa_report,
    school_of,
    simulated,
)


def test_any_report_prints_with_its_headings_rows_and_definitions(tmp_path: Path) -> None:
    for wide in (False, True):
        pdf = render_report(fill_rate_report(wide=wide), "sch1", FONT_DIR)
        texts = page_texts(pdf.body)
        whole = "\n".join(texts)
        assert len(texts) == pdf.pages >= 2  # 60 rows continue on a second page
        assert "Заполнение журнала за период" in texts[0]
        assert "16.11.2026 – 28.11.2026" in texts[0]
        for heading in ("Класс", "Предмет", "Учитель", "Уроков", "Доля тем вовремя"):
            assert heading in whole
        for i in range(60):
            assert f"Төрөбекова Айнура Үсөновна {i}" in whole
        assert "87,5 %" in whole
        assert "уроки с темой в день урока / все уроки" in whole
        assert "Нет данных." in whole
        assert all(f"Лист {n}" in text for n, text in enumerate(texts, start=1))
        assert all(embedded for _, embedded in font_report(pdf.body))
        assert pdfa_report(pdf.body)["part"] == "2"
        assert ink(pdf.body, 0, tmp_path / "report.png") > 1000


def test_cells_are_printed_readably() -> None:
    assert cell_text(None, {}) == "—"
    assert cell_text(0.5, {"key": "homework_share"}) == "50,0 %"
    assert cell_text(4.25, {"key": "average"}) == "4,25"
    assert cell_text(3, {}) == "3"
    assert cell_text(True, {}) == "да"


def test_a_report_paper_names_the_school_and_classes_in_order_in_local_time() -> None:
    report = fill_rate_report(rows=12)
    columns = report["tables"][0]["columns"]
    columns.append({"key": "open_findings", "title": "Открытые замечания",
                    "definition": "число по каждому правилу", "format": "rule_counts"})
    columns.append({"key": "marks_on_time", "title": "Отметки в срок",
                    "definition": "доля отметок, выставленных в срок", "format": "percent"})
    for row in report["tables"][0]["rows"]:
        row["open_findings"] = {"lesson.topic.late": 1, "mark.late": 2}
        row["marks_on_time"] = 1  # a share of exactly one arrives as an integer
    calendar = {"school_name": "Средняя школа № 48", "timezone": "Asia/Bishkek"}
    names = {f"{n}a": f"{n} «А»" for n in range(5, 11)}
    texts = page_texts(render_report(report, "sch1", FONT_DIR, calendar=calendar,
                                     class_names=names).body)
    whole = "\n".join(texts)
    assert "sch1" not in whole and all("Средняя школа № 48" in text for text in texts)
    # generated 10:00:02 UTC: 16:00 in Bishkek
    assert "Сформирован 28.11.2026 16:00 (время Asia/Bishkek)" in whole
    assert "{" not in whole and "lesson.topic.late" not in whole  # no raw structures, ids
    assert "Тема урока внесена не в день урока: 1; Отметка выставлена позже срока: 2" in \
        whole.replace("\n", " ")
    assert "100,0 %" in whole  # the integer share as a percentage, not "1"
    first_cells = [line[:6].strip() for line in whole.splitlines() if "«А»" in line[:7]]
    order = [int(cell.split()[0]) for cell in first_cells]
    assert order == sorted(order) and order[0] == 5 and order[-1] == 10  # 5 «А» … 10 «А»


def _copy(grades: tuple[int, ...] = (7,), terms: tuple[int, ...] = (1,)) -> Any:
    events = simulated(grades=grades, terms=terms)
    records = fold_all(events)
    class_id = next(r.key for r in records.values() if r.kind == "class")
    return class_copy(school_of(events), class_id, records.values())


def test_a_students_term_report_for_parents(tmp_path: Path) -> None:
    copy = _copy()
    student = copy.roster["students"][3]
    term_id = next(t["id"] for t in copy.calendar["terms"] if t["number"] == 1
                   and t["kind"] == "quarter")
    report = build_student_report(copy, student["student_id"], term_id)
    own = [m for m in copy.marks if m["student_id"] == student["student_id"]
           and m.get("kind") == "current"]
    assert sum(len(line.marks) for line in report.subjects) == len(own)
    assert any(line.term_mark for line in report.subjects)
    pdf = render_student_report(report, FONT_DIR)
    text = " ".join(" ".join(page_texts(pdf.body)).split())  # wrapped cells joined
    assert student["full_name"] in text
    for line in report.subjects:
        assert line.subject in text
        if line.average is not None:
            assert f"{line.average:.2f}".replace(".", ",") in text
    assert f"Пропущено уроков: {report.missed}" in text
    assert pdfa_report(pdf.body)["conformance"] == "B"
    assert ink(pdf.body, 0, tmp_path / "student.png") > 1000


def test_the_final_statement_of_a_class(tmp_path: Path) -> None:
    copy = _copy(grades=(8,), terms=(1, 2, 3, 4))
    statement = build_final_statement(copy)
    year_marks = statement.year_marks()
    assert len(year_marks) >= len(statement.students) * 5
    pdf = render_final_statement(statement, FONT_DIR)
    texts = page_texts(pdf.body)
    whole = "\n".join(texts)
    assert "Итоговая ведомость" in texts[0]
    for student in statement.students:
        assert student.full_name in whole
    for subject in statement.subjects:
        assert f"{subject}: отметки за четверти и год" in whole
    # a student's row on a subject's page: term marks then the year mark
    student, subject = statement.students[0], statement.subjects[0]
    marks = statement.marks[(student.student_id, subject)]
    terms = [t for t in statement.terms if t.kind != "year"] + \
        [t for t in statement.terms if t.kind == "year"]
    row = " ".join([str(student.number), student.full_name]
                   + [marks[t.term_id] for t in terms if t.term_id in marks])
    page = next(t for t in texts if f"{subject}: отметки за четверти и год" in t)
    assert row in page.splitlines()
    assert ink(pdf.body, 0, tmp_path / "final.png") > 1000


def test_print_parameters_are_checked() -> None:
    assert parameter_errors("class_journal", {"class_id": "5a"}) == {}
    assert parameter_errors("class_journal", {"class_id": "5a", "term_id": "q1"}) == {}
    assert "kind" in parameter_errors("poster", {})
    assert parameter_errors("student_report", {"student_id": "s1"}) == {
        "term_id": "is required"}
    assert parameter_errors("report", []) == {"parameters": "must be an object"}


def test_the_printer_refuses_what_a_requests_scope_does_not_cover() -> None:
    from services.printer.domain.requests import class_refusal, kind_refusal

    teacher = {"role": "teacher", "teacher_id": "t1"}
    homeroom = {"role": "class_teacher", "teacher_id": "t1"}
    assert kind_refusal("report", teacher) is None
    assert "только свои отчёты" in str(kind_refusal("class_journal", teacher))
    assert "администрация" in str(kind_refusal("class_journals", homeroom))
    assert kind_refusal("class_journals", None) is None  # the administration's request
    assert class_refusal({"homeroom_teacher_id": "t1"}, homeroom) is None
    assert "не класс" in str(class_refusal({"homeroom_teacher_id": "t2"}, homeroom))
    assert class_refusal({"homeroom_teacher_id": "t2"}, {"role": "deputy"}) is None
