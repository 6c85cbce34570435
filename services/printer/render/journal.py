"""The class journal as a PDF: laid out like the paper journal, every page numbered.

Landscape A4. Title page; contents with the legend of every code; student list;
per subject (and subgroup) the marks grid, pages filled with date columns (a short grid's parts
stacked on one page), each grid page followed by the page of its lessons (date, topic,
homework, teacher); the attendance
summary; the final marks; the remarks sheet; and the last page certifying the
number of sheets, for the deputy director's signature and the school seal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.platypus import PageBreak, Paragraph, Spacer

from services.printer.domain.journal import (
    Journal,
    Remark,
    Student,
    SubjectSection,
    pack_columns,
)
from services.printer.render.common import (
    HEADER,
    MARGIN,
    Bookmark,
    DocumentInfo,
    PageCount,
    RenderedPdf,
    RunningHead,
    SetTopic,
    build,
    fit_size,
    register_fonts,
    style,
)
from services.printer.render.contents import Contents, build_with_contents
from services.printer.render.grid import Grid, GridStyle
from shared.events.journal_codes import LEGEND

PAGE_WIDTH = 842.0 - 2 * 22.0
#: the body frame's height on a landscape page (common.document's margins)
BODY_HEIGHT = 595.27 - (MARGIN + HEADER) - (MARGIN + 6)
#: the space between two grid parts sharing a page
PART_GAP = 14.0
NUMBER_WIDTH = 16.0
NAME_WIDTH = 150.0
CELL_WIDTH = 17.5
FINAL_WIDTH = 24.0
ROW_HEIGHT = 12.5
GRID_FONT = 7.0
#: as many date columns as fit beside the names without squeezing them
COLUMNS_PER_PAGE = int((PAGE_WIDTH - NUMBER_WIDTH - NAME_WIDTH - 2 * FINAL_WIDTH) // CELL_WIDTH)
FINAL_SUBJECTS_PER_TABLE = 15
NAME_HEADING = "Фамилия, имя, отчество"
#: rows left empty under the remarks for the deputy director to write in by hand
BLANK_REMARK_ROWS = 12
#: the one-line legend under every grid
GRID_LEGEND = "; ".join(f"«{code}» — {meaning}" for code, meaning in LEGEND) + \
    "; серые столбцы — итоговые отметки (ч. — четверть, п/г — полугодие)"

TITLE = style(22, font="Sans-Bold", align=TA_CENTER, space_after=14)
SUBTITLE = style(13, font="Sans", align=TA_CENTER, space_after=8)
HEADING = style(12, font="Sans-Bold", space_after=6)
BODY = style(9, font="Sans", space_after=4)


def journal_info(journal: Journal) -> DocumentInfo:
    return DocumentInfo(
        title=f"Классный журнал {journal.class_name}, {journal.academic_year}",
        subject=f"Классный журнал: {journal.period}; {journal.school_name}",
        keywords=f"kozomol, journal, {journal.school_id}, {journal.class_id}, "
                 f"{journal.academic_year}")


def render_journal(journal: Journal, font_dir: Path, printed: str = "") -> RenderedPdf:
    """The whole class journal; ``printed`` is the local time of printing (the footer)."""
    register_fonts(font_dir)
    head = running_head(journal, printed)
    return build_with_contents(journal_story(journal, head), head, journal_info(journal),
                               wide=True, font_dir=font_dir)


def running_head(journal: Journal, printed: str = "") -> RunningHead:
    return RunningHead(f"Класс {journal.class_name} · {journal.academic_year} · "
                       f"{journal.period}", journal.school_name, printed)


def journal_story(journal: Journal, head: RunningHead, level: int = 0, *,
                  with_contents: bool = True) -> list[Any]:
    """The journal's flowables; its bookmarks start at ``level`` (its title)."""
    story: list[Any] = []
    story += _title_page(journal, head, level)
    if with_contents:
        story += _contents(head)
    story += _student_list(journal, head, level)
    for number, section in enumerate(journal.sections):
        story += _subject(section, head, level, first=number == 0)
    story += _attendance(journal, head, level)
    story += _final_marks(journal, head, level)
    story += _remarks(journal, head, level)
    story += _certificate(journal, head, level)
    return story


def _contents(head: RunningHead) -> list[Any]:
    legend = [[code, meaning] for code, meaning in LEGEND] + [
        ["I ч., II ч.", "итоговая отметка за четверть (серый столбец)"],
        ["I п/г", "итоговая отметка за полугодие"], ["Год", "годовая отметка"]]
    return [SetTopic(head, "Содержание"),
            Contents(after=[
                Spacer(1, 14), Paragraph("Условные обозначения", HEADING),
                Grid([60, 420], [["Запись", "Что означает"]], legend,
                     GridStyle(font="Sans", bold="Sans-Bold", size=8.5, leading=10,
                               min_row=13, align="CL"))]),
            PageBreak()]


def _title_page(journal: Journal, head: RunningHead, level: int = 0) -> list[Any]:
    school = journal.school
    lines = [Paragraph(escape(journal.school_name), SUBTITLE)]
    if school and school.address:
        lines.append(Paragraph(escape(school.address), style(10, font="Sans", align=TA_CENTER,
                                                             space_after=8)))
    if school and school.director:
        lines.append(Paragraph(f"Директор: {escape(school.director)}", SUBTITLE))
    return [
        SetTopic(head, "Титульный лист"),
        Bookmark(f"Классный журнал {journal.class_name}", level, in_contents=level > 0),
        Spacer(1, 60),
        Paragraph("КЛАССНЫЙ ЖУРНАЛ", TITLE),
        *lines,
        Paragraph(f"Класс: {escape(journal.class_name)}", SUBTITLE),
        Paragraph(f"Учебный год: {escape(journal.academic_year)}", SUBTITLE),
        Paragraph(f"Период: {escape(journal.period)}", SUBTITLE),
        Paragraph(f"Классный руководитель: {escape(journal.homeroom_teacher)}", SUBTITLE),
        Spacer(1, 40),
        Paragraph("Бумажная копия электронного журнала Kundoluk (Күндөлүк), "
                  "изготовлена Kozomol.", style(9, font="Sans", align=TA_CENTER)),
        PageBreak(),
    ]


def _student_list(journal: Journal, head: RunningHead, level: int = 0) -> list[Any]:
    rows = [[str(s.number), s.full_name] for s in journal.students]
    grid = Grid([28, 380], [["№", "Фамилия, имя, отчество обучающегося"]], rows,
                GridStyle(font="Sans", bold="Sans-Bold", size=9, leading=11, min_row=14,
                          align="CL"))
    return [SetTopic(head, "Список обучающихся"), Bookmark("Список обучающихся", level + 1),
            Paragraph("Список обучающихся", HEADING), grid, PageBreak()]


def _subject(section: SubjectSection, head: RunningHead, level: int = 0,
             first: bool = False) -> list[Any]:
    story: list[Any] = [SetTopic(head, section.title)]
    if first:
        story.append(Bookmark("Предметы: отметки и пройденные темы", level + 1))
    story.append(Bookmark(section.title, level + 2))
    names = [s.full_name for s in section.students]
    name_size = fit_size(names, "Narrow", NAME_WIDTH - 4, 7.5)
    parts = pack_columns(section.columns, COLUMNS_PER_PAGE) or [range(0)]
    teachers = ", ".join(section.teachers) or "—"
    title = f"{section.title} — учитель: {teachers}"
    blocks = []
    for number, columns in enumerate(parts):
        caption = title + (f" (часть {number + 1} из {len(parts)})" if len(parts) > 1 else "")
        blocks.append((columns, [
            Paragraph(escape(caption), style(9.5, font="Sans-Bold", space_after=4)),
            _grid(section, columns, name_size),
            Paragraph(escape(GRID_LEGEND), style(6, font="Narrow", leading=7))]))
    # A short grid (a subgroup of a dozen students) takes a third of a page: the
    # parts that fit are stacked on one page, and their lessons follow on the next.
    for group in _sharing_pages(blocks):
        for index, (_, flowables) in enumerate(group):
            if index:
                story.append(Spacer(1, PART_GAP))
            story += flowables
        story.append(PageBreak())
        faced = [c for part, _ in group for c in part]
        numbers = [parts.index(part) for part, _ in group]
        story += _lessons_page(section, faced, _group_caption(title, numbers, len(parts)))
    return story


def _group_caption(title: str, numbers: list[int], parts: int) -> str:
    """The lessons page's caption: the grid parts it faces ("часть 2 из 3", "части 1–2 из 3")."""
    if parts == 1:
        return title
    first, last = numbers[0] + 1, numbers[-1] + 1
    if first == last:
        return f"{title} (часть {first} из {parts})"
    return f"{title} (части {first}–{last} из {parts})"


def _sharing_pages(blocks: list[tuple[range, list[Any]]]
                   ) -> list[list[tuple[range, list[Any]]]]:
    """The grid parts in page-sized groups: as many in a row as fit one page's body."""
    groups: list[list[tuple[range, list[Any]]]] = []
    room = 0.0
    for block in blocks:
        height = sum(f.wrap(PAGE_WIDTH, BODY_HEIGHT)[1] + f.getSpaceAfter() for f in block[1])
        # a point of slack: the frame refuses a flowable that fits to the last decimal
        if groups and height + PART_GAP <= room - 1:
            groups[-1].append(block)
            room -= height + PART_GAP
        else:
            groups.append([block])
            room = BODY_HEIGHT - height
    return groups


def _grid(section: SubjectSection, columns: range, name_size: float) -> Grid:
    chosen = [section.columns[i] for i in columns]
    top: list[str | None] = ["", ""]
    bottom: list[str | None] = ["№", NAME_HEADING]
    for index, column in enumerate(chosen):
        bottom.append(column.label)
        if column.kind == "final":
            top.append("")
        elif index == 0 or column.month != chosen[index - 1].month \
                or chosen[index - 1].kind == "final":
            top.append(column.month)
        else:
            top.append(None)
    rows = [[str(student.number), student.full_name]
            + [section.cells.get((student.student_id, i), "") for i in columns]
            for student in section.students]
    widths = [NUMBER_WIDTH, NAME_WIDTH] + [
        FINAL_WIDTH if c.kind == "final" else CELL_WIDTH for c in chosen]
    emphasised = frozenset(2 + i for i, c in enumerate(chosen) if c.kind == "final")
    return Grid(widths, [top, bottom], rows,
                GridStyle(size=GRID_FONT, leading=8.4, min_row=ROW_HEIGHT, align="CL",
                          emphasised=emphasised, column_size={1: name_size}))


def _lessons_page(section: SubjectSection, columns: Sequence[int], caption: str) -> list[Any]:
    rows = []
    for index in columns:
        column = section.columns[index]
        line = section.lessons.get(column.lesson_id or "")
        if line is None:
            continue
        teacher = line.teacher + (f" ({line.note})" if line.note else "")
        rows.append([line.day.strftime("%d.%m.%Y"), str(line.period or ""),
                     line.topic or "—", line.homework or "—", teacher])
    if not rows:
        return []
    grid = Grid([50, 28, 330, 260, PAGE_WIDTH - 668],
                [["Дата", "Урок", "Тема урока", "Домашнее задание", "Учитель"]], rows,
                GridStyle(size=7.5, leading=8.8, align="CCLLL", wrap=frozenset({2, 3, 4})))
    return [Paragraph(escape(f"{caption}: что пройдено на уроках"),
                      style(9.5, font="Sans-Bold", space_after=4)), grid, PageBreak()]


def _attendance(journal: Journal, head: RunningHead, level: int = 0) -> list[Any]:
    header: list[str | None] = ["№", NAME_HEADING]
    for term in journal.terms:
        header += [f"{term.label}: пропущено уроков", f"{term.label}: по болезни",
                   f"{term.label}: опоздания"]
    header += ["Всего пропущено", "По болезни", "Опоздания"]
    rows = []
    for row in journal.attendance:
        cells = [str(row.student.number), row.student.full_name]
        for missed, illness, late in row.by_term:
            cells += [str(missed), str(illness), str(late)]
        cells += [str(v) for v in row.total]
        rows.append(cells)
    count = len(header) - 2
    width = min(60.0, (PAGE_WIDTH - NUMBER_WIDTH - NAME_WIDTH) / count)
    names = [s.full_name for s in journal.students]
    grid = Grid([NUMBER_WIDTH, NAME_WIDTH] + [width] * count, [header], rows,
                GridStyle(size=7.5, leading=8.8, align="CL",
                          column_size={1: fit_size(names, "Narrow", NAME_WIDTH - 4, 7.5)}))
    return [SetTopic(head, "Сведения о посещаемости"),
            Bookmark("Сведения о посещаемости", level + 1),
            Paragraph("Сведения о посещаемости (число уроков)", HEADING), grid, PageBreak()]


def _final_marks(journal: Journal, head: RunningHead, level: int = 0) -> list[Any]:
    story: list[Any] = [SetTopic(head, "Итоговые отметки"),
                        Bookmark("Итоговые отметки", level + 1),
                        Paragraph(f"Итоговые отметки ({escape(journal.period)})", HEADING)]
    story += final_marks_tables(journal.students, journal.final_subjects,
                                journal.final_marks)
    story.append(Paragraph(escape(f"Пустая клетка — отметка ещё не выставляется; "
                                  f"{LEGEND[-1][0]} — {LEGEND[-1][1]}."), BODY))
    story.append(PageBreak())
    return story


def final_marks_tables(students: list[Student], subjects: list[str],
                       marks: dict[tuple[str, str], str]) -> list[Any]:
    """Students × subjects, at most ``FINAL_SUBJECTS_PER_TABLE`` subjects a table."""
    story: list[Any] = []
    names = [s.full_name for s in students]
    name_size = fit_size(names, "Narrow", NAME_WIDTH - 4, 8)
    for start in range(0, max(len(subjects), 1), FINAL_SUBJECTS_PER_TABLE):
        chosen = subjects[start:start + FINAL_SUBJECTS_PER_TABLE]
        width = min(60.0, (PAGE_WIDTH - NUMBER_WIDTH - NAME_WIDTH) / len(chosen or [""]))
        header: list[str | None] = ["№", NAME_HEADING, *chosen]
        rows = [[str(student.number), student.full_name]
                + [marks.get((student.student_id, name), "") for name in chosen]
                for student in students]
        story += [Grid([NUMBER_WIDTH, NAME_WIDTH] + [width] * len(chosen), [header], rows,
                       GridStyle(size=8, leading=9.2, min_row=13, align="CL",
                                 column_size={1: name_size})),
                  Spacer(1, 10)]
    return story


#: the remarks sheet's columns: what Kozomol found, then what the deputy fills by hand
REMARK_COLUMNS = ("№", "Дата проверки", "Предмет", "Учитель", "Что выявлено",
                  "Отметка", "Дата устранения", "Подпись учителя", "Подпись проверяющего")
REMARK_WIDTHS = (18, 52, 90, 100, PAGE_WIDTH - 522, 62, 60, 70, 70)
#: empty rows that fill a blank remarks sheet's page
BLANK_SHEET_ROWS = 22


def remark_rows(remarks: list[Remark], blank_rows: int) -> list[list[str]]:
    """Filled rows, then empty numbered rows to write further checks in by hand."""
    rows = []
    for number, remark in enumerate(remarks, start=1):
        checked = remark.checked_on or remark.day
        found = f"{remark.rule}: {remark.message}" if remark.rule else remark.message
        status = f"{remark.status}: {remark.justification}" if remark.justification \
            else remark.status
        fixed = remark.fixed_on.strftime("%d.%m.%Y") if remark.fixed_on else ""
        rows.append([str(number), checked.strftime("%d.%m.%Y"), remark.subject,
                     remark.teacher, found, status, fixed, "", ""])
    rows += [[str(n), "", "", "", "", "", "", "", ""]
             for n in range(len(remarks) + 1, len(remarks) + blank_rows + 1)]
    return rows


def remarks_grid(remarks: list[Remark], blank_rows: int = BLANK_REMARK_ROWS) -> Grid:
    return Grid(list(REMARK_WIDTHS), [list(REMARK_COLUMNS)], remark_rows(remarks, blank_rows),
                GridStyle(size=7.5, leading=8.8, min_row=20, align="CCLLLCCCC",
                          wrap=frozenset({2, 3, 4, 5})))


def _remarks(journal: Journal, head: RunningHead, level: int = 0) -> list[Any]:
    story: list[Any] = [SetTopic(head, "Лист замечаний"), Bookmark("Лист замечаний", level + 1),
                        Paragraph("Лист замечаний по ведению классного журнала", HEADING)]
    if not journal.remarks:
        story.append(Paragraph("Kozomol замечаний не выявил. Строки ниже — для записей "
                               "проверяющего.", BODY))
    story.append(remarks_grid(journal.remarks))
    story.append(PageBreak())
    return story


def _certificate(journal: Journal, head: RunningHead, level: int = 0) -> list[Any]:
    deputy = journal.school.deputy_for_studies if journal.school else ""
    return [
        SetTopic(head, "Заверительная надпись"),
        Bookmark("Заверительная надпись", level + 1),
        Spacer(1, 120),
        PageCount(lambda pages: f"В журнале пронумеровано и прошнуровано {pages} "
                                f"{sheets_word(pages)}."),
        Spacer(1, 30),
        Paragraph("Заместитель директора по УВР ____________________ / "
                  f"{escape(deputy) or '____________________'} /",
                  style(12, font="Sans", space_after=30)),
        Paragraph("Дата «____» ______________ 20____ г.", style(12, font="Sans", space_after=30)),
        Paragraph("М. П.", style(12, font="Sans")),
    ]


def sheets_word(count: int) -> str:
    """«лист», «листа» or «листов» after a number."""
    if count % 10 == 1 and count % 100 != 11:
        return "лист"
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return "листа"
    return "листов"


def render_remarks_sheet(journal: Journal, font_dir: Path, *, blank: bool = False,
                         printed: str = "") -> RenderedPdf:
    """The remarks sheet alone: filled with the findings, or ``blank`` (every row empty,
    to be kept by hand from the start of the year)."""
    register_fonts(font_dir)
    head = running_head(journal, printed)
    remarks = [] if blank else journal.remarks
    story: list[Any] = [
        SetTopic(head, "Лист замечаний"),
        Paragraph("Лист замечаний по ведению классного журнала", HEADING),
        Paragraph(escape(f"{journal.school_name} · класс {journal.class_name} · "
                         f"{journal.academic_year} учебный год · классный руководитель "
                         f"{journal.homeroom_teacher}"), BODY),
        remarks_grid(remarks, max(BLANK_REMARK_ROWS, BLANK_SHEET_ROWS - len(remarks))
                     if blank or not remarks else BLANK_REMARK_ROWS),
    ]
    info = DocumentInfo(
        title=f"Лист замечаний {journal.class_name}, {journal.academic_year}",
        subject=f"Лист замечаний по ведению классного журнала; {journal.school_name}",
        keywords=f"kozomol, remarks sheet, {journal.school_id}, {journal.class_id}")
    return build(story, head, info, wide=True, font_dir=font_dir)
