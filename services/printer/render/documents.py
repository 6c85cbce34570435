"""The other printed documents: any monitoring report, a student's term report for
parents, and a class's final statement (итоговая ведомость) for the year."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.platypus import PageBreak, Paragraph, Spacer

from services.printer.domain.journal import class_sort_key, school_names
from services.printer.domain.statements import FinalStatement, StudentReport
from services.printer.render.charts import chart_for
from services.printer.render.common import (
    MARGIN,
    Bookmark,
    DocumentInfo,
    RenderedPdf,
    RunningHead,
    SetTopic,
    build,
    fit_size,
    local_time,
    register_fonts,
    school_zone,
    style,
    text_width,
)
from services.printer.render.grid import Grid, GridStyle
from services.printer.render.journal import (
    NAME_WIDTH,
    NUMBER_WIDTH,
    final_marks_tables,
)
from shared.events.rules import RULE_TITLES, rule_title

TITLE = style(15, font="Sans-Bold", align=TA_CENTER, space_after=10)
HEADING = style(11, font="Sans-Bold", space_after=5)
BODY = style(9, font="Sans", space_after=4)
NOTE = style(7.5, font="Narrow", space_after=2)
PORTRAIT_WIDTH = A4[0] - 2 * MARGIN
LANDSCAPE_WIDTH = landscape(A4)[0] - 2 * MARGIN
CELL_SIZE = 7.5


# any monitoring report (report.ready, docs/reports.md) ---------------------------------
SHARE_WORDS = ("share", "_rate", "on_time", "доля", "%")


def is_share_column(column: dict[str, Any]) -> bool:
    """A column of shares (0…1), printed as percentages: said by its format, or its
    key, title or definition («доля уроков, …»)."""
    if column.get("format") in ("percent", "share"):
        return True
    hint = f"{column.get('key', '')} {column.get('title', '')} " \
           f"{str(column.get('definition') or '')[:12]}".lower()
    return any(word in hint for word in SHARE_WORDS)


def cell_text(value: Any, column: dict[str, Any]) -> str:
    """A report cell as printed: shares as percentages, numbers with a decimal comma,
    counts per rule as «rule title: count» lines; never a raw data structure."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, int | float) and is_share_column(column) and 0 <= value <= 1:
        return f"{value * 100:.1f} %".replace(".", ",")
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    if isinstance(value, dict):
        if not value:
            return "—"
        return "; ".join(f"{rule_title(str(k))}: {cell_text(v, {})}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell_text(v, column) for v in value)
    if isinstance(value, str) and column.get("key") == "rule" and value in RULE_TITLES:
        return rule_title(value)
    return str(value)


def _widths(columns: list[dict[str, Any]], rows: list[list[str]],
            page_width: float) -> list[float]:
    """Column widths from their contents: no column narrower than its longest word."""
    natural, least = [], []
    for index, column in enumerate(columns):
        texts = [str(column.get("title") or column.get("key"))] + [row[index] for row in rows]
        natural.append(min(220.0, max(text_width(t, "Narrow", CELL_SIZE) for t in texts) + 6))
        words = [w for t in texts for w in t.split()] or [""]
        least.append(min(120.0, max(24.0, *(text_width(w, "Narrow", CELL_SIZE) + 6
                                            for w in words))))
    total = sum(natural)
    if total <= page_width:
        return [w * page_width / total for w in natural] if total > page_width * 0.6 \
            else natural
    spare = page_width - sum(least)
    extra = [n - m for n, m in zip(natural, least, strict=True)]
    share = spare / sum(extra) if spare > 0 and sum(extra) > 0 else 0
    return [m + e * share for m, e in zip(least, extra, strict=True)]


def report_is_wide(report: dict[str, Any]) -> bool:
    return any(len(table.get("columns") or []) > 7 for table in report.get("tables") or [])


def render_report(report: dict[str, Any], school_id: str, font_dir: Path, *,
                  calendar: dict[str, Any] | None = None,
                  class_names: dict[str, str] | None = None,
                  printed_at: datetime | None = None) -> RenderedPdf:
    """A monitoring report; ``calendar`` gives the school's name and time zone,
    ``class_names`` the classes as the school writes them (ids when unknown)."""
    register_fonts(font_dir)
    wide = report_is_wide(report)
    page_width = LANDSCAPE_WIDTH if wide else PORTRAIT_WIDTH
    title = str(report.get("title") or report.get("kind") or "Отчёт")
    zone = school_zone(calendar)
    school = school_names(school_id, calendar).name
    head = RunningHead(title, school, local_time(printed_at or datetime.now(UTC), zone))
    story: list[Any] = [SetTopic(head, ""), Paragraph(escape(title), TITLE),
                        Paragraph(escape(school), style(10, font="Sans", align=TA_CENTER,
                                                        space_after=8))]
    summary = [[str(label), cell_text(value, {})] for label, value in
               report.get("summary") or []]
    generated = report.get("generated_at") or report.get("as_of")
    if generated:
        summary.append(["Сформирован", f"{local_time(str(generated), zone)} "
                                       f"(время {zone.key})"])
    if summary:
        story += [Grid([160, page_width - 160], [], summary,
                       GridStyle(font="Sans", bold="Sans-Bold", size=8.5, leading=10,
                                 min_row=13, align="LL", wrap=frozenset({0, 1}))),
                  Spacer(1, 10)]
    for table in report.get("tables") or []:
        columns = list(table.get("columns") or [])
        if table.get("title"):
            story.append(Paragraph(escape(str(table["title"])), HEADING))
        if not columns:
            continue
        names = class_names or {}
        source = list(table.get("rows") or [])
        if any(c["key"] == "class_id" for c in columns):  # 1 «А» … 11 «Б», as a school lists
            source.sort(key=lambda r: class_sort_key(
                names.get(str(r.get("class_id")), str(r.get("class_id")))))
        rows = [[names.get(str(row.get(c["key"])), str(row.get(c["key"])))
                 if c["key"] == "class_id" and row.get(c["key"]) else
                 cell_text(row.get(c["key"]), c) for c in columns]
                for row in source]
        if not rows:
            story += [Paragraph("Нет данных.", BODY), Spacer(1, 8)]
            continue
        header: list[str | None] = [str(c.get("title") or c["key"]) for c in columns]
        numeric = ["C" if all(_is_number(r.get(c["key"])) for r in source)
                   else "L" for c in columns]
        story.append(Grid(_widths(columns, rows, page_width), [header], rows,
                          GridStyle(size=CELL_SIZE, leading=8.8, align=numeric,
                                    wrap=frozenset(range(len(columns))))))
        definitions = [(c.get("title") or c["key"], c["definition"]) for c in columns
                       if c.get("definition")]
        for name, definition in definitions:
            story.append(Paragraph(f"<b>{escape(str(name))}</b>: {escape(str(definition))}",
                                   NOTE))
        chart = chart_for(table, page_width)
        if chart is not None:
            story += [Spacer(1, 6), chart]
        story.append(Spacer(1, 10))
    info = DocumentInfo(title=title, subject=f"Отчёт {report.get('kind', '')}, {school}",
                        keywords=f"kozomol, report, {report.get('report_id', '')}")
    return build(story, head, info, wide=wide, font_dir=font_dir)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


# a student's term report for parents ---------------------------------------------------
def render_student_report(report: StudentReport, font_dir: Path,
                          printed: str = "") -> RenderedPdf:
    register_fonts(font_dir)
    head = RunningHead(f"Класс {report.class_name} · {report.academic_year} · "
                       f"{report.term.title}",
                       report.school.name if report.school else report.school_id, printed)
    story: list[Any] = [
        SetTopic(head, "Отчёт для родителей"),
        Bookmark(report.student.full_name, 0, in_contents=False),
        Paragraph(escape(report.school.name if report.school else report.school_id),
                  style(10, font="Sans", align=TA_CENTER, space_after=6)),
        Paragraph("Отчёт об успеваемости и посещаемости", TITLE),
        Paragraph(f"Ученик: <b>{escape(report.student.full_name)}</b>", BODY),
        Paragraph(f"Класс: {escape(report.class_name)}, учебный год "
                  f"{escape(report.academic_year)}, {escape(report.term.title)} "
                  f"({report.term.start:%d.%m.%Y} – {report.term.end:%d.%m.%Y})", BODY),
        Paragraph(f"Классный руководитель: {escape(report.homeroom_teacher)}", BODY),
        Spacer(1, 8),
    ]
    rows = [[line.subject, " ".join(line.marks) or "—",
             f"{line.average:.2f}".replace(".", ",") if line.average is not None else "—",
             line.term_mark or "—"] for line in report.subjects]
    story.append(Grid([120, PORTRAIT_WIDTH - 250, 60, 70],
                      [["Предмет", "Текущие отметки", "Средний балл",
                        f"Отметка за {report.term.label}"]], rows,
                      GridStyle(font="Sans", bold="Sans-Bold", size=8, leading=9.6, min_row=14,
                                align="LLCC", wrap=frozenset({0, 1}))))
    story += [
        Spacer(1, 12),
        Paragraph("Посещаемость", HEADING),
        Paragraph(f"Пропущено уроков: {report.missed}, из них по болезни: "
                  f"{report.missed_illness}. Опозданий: {report.late}.", BODY),
        Spacer(1, 30),
        Paragraph("Классный руководитель ____________________", BODY),
        Spacer(1, 12),
        Paragraph("С отчётом ознакомлен(а), родитель ____________________", BODY),
    ]
    info = DocumentInfo(
        title=f"Отчёт для родителей: {report.student.full_name}, {report.term.title}",
        subject=f"Успеваемость и посещаемость, класс {report.class_name}, "
                f"{report.academic_year}",
        keywords=f"kozomol, student report, {report.school_id}, {report.student.student_id}")
    return build(story, head, info, wide=False, font_dir=font_dir)


# the final statement of a class for the year -------------------------------------------
def render_final_statement(statement: FinalStatement, font_dir: Path,
                           printed: str = "") -> RenderedPdf:
    register_fonts(font_dir)
    head = RunningHead(f"Класс {statement.class_name} · {statement.academic_year}",
                       statement.school.name if statement.school else statement.school_id,
                       printed)
    story: list[Any] = [
        SetTopic(head, "Итоговая ведомость"),
        Paragraph(f"Итоговая ведомость успеваемости {escape(statement.class_name)} класса, "
                  f"{escape(statement.academic_year)} учебный год", TITLE),
        Paragraph(f"Классный руководитель: {escape(statement.homeroom_teacher)}", BODY),
        Paragraph("Годовые отметки", HEADING),
    ]
    story += final_marks_tables(statement.students, statement.subjects,
                                statement.year_marks())
    story.append(PageBreak())
    names = [s.full_name for s in statement.students]
    name_size = fit_size(names, "Narrow", NAME_WIDTH - 4, 8)
    terms = [t for t in statement.terms if t.kind != "year"] + \
        [t for t in statement.terms if t.kind == "year"]
    for subject in statement.subjects:
        story.append(SetTopic(head, f"Итоговая ведомость: {subject}"))
        story.append(Paragraph(f"{escape(subject)}: отметки за четверти и год", HEADING))
        rows = [[str(student.number), student.full_name]
                + [statement.marks.get((student.student_id, subject), {}).get(t.term_id, "")
                   for t in terms] for student in statement.students]
        story += [Grid([NUMBER_WIDTH, NAME_WIDTH] + [40] * len(terms),
                       [["№", "Фамилия, имя, отчество", *[t.label for t in terms]]], rows,
                       GridStyle(size=8, leading=9.2, min_row=13, align="CL",
                                 column_size={1: name_size},
                                 emphasised=frozenset({1 + len(terms)}))),
                  Spacer(1, 14)]
    story += [Spacer(1, 20),
              Paragraph("Классный руководитель ____________________     "
                        "Заместитель директора по УВР ____________________", BODY)]
    info = DocumentInfo(
        title=f"Итоговая ведомость {statement.class_name}, {statement.academic_year}",
        subject=f"Итоговые отметки класса {statement.class_name} за учебный год",
        keywords=f"kozomol, final statement, {statement.school_id}")
    return build(story, head, info, wide=True, font_dir=font_dir)
