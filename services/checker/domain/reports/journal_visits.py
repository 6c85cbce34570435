"""Journal visits (clause 4.3): when students and parents last opened the journal."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from services.checker.domain.reports.model import Column, Report, ReportError, Table, ru_date
from services.checker.domain.reports.school_book import WHOLE_SCHOOL, SchoolBook, Scope

JOURNAL_VISITS_COLUMNS = (
    Column("class_id", "Класс"), Column("student", "Ученик"),
    Column("last_student_visit", "Последнее посещение ученика",
           "последний день, в который ученик открывал электронный журнал (по данным "
           "Күндөлүк); пусто — ни разу за отчётный период"),
    Column("last_parent_visit", "Последнее посещение родителей",
           "последний день, в который журнал открывали родители (законные представители)"),
    Column("student_days", "Дней без посещения (ученик)",
           "дней от последнего посещения до последнего дня, за который Күндөлүк прислал "
           "данные; без посещений — все дни отчётного периода"),
    Column("parent_days", "Дней без посещения (родители)", "так же, для родителей"),
    Column("behind", "Не посещали", "кто не открывал журнал заданное число дней и более"),
    Column("class_teacher", "Классный руководитель",
           "следит за посещаемостью журнала учениками и родителями (п. 4.3)"),
)


def journal_visits_report(rows: list[dict[str, Any]], book: SchoolBook, *, days: int,
                          class_id: str | None = None, scope: Scope = WHOLE_SCHOOL) -> Report:
    """Per class, who has not opened the journal for ``days`` days or more (clause 4.3:
    class teachers «осуществляют контроль посещаемости ЭЖ родителями и обучающимися»).
    ``rows``: :func:`services.checker.domain.rules.visit_rows`."""
    shown = [row for row in rows if (class_id is None or row["class_id"] == class_id)
             and scope.sees(row["class_id"], row["class_teacher_id"])]
    if class_id is not None and not shown and scope.teacher_id is not None \
            and not scope.sees(class_id, None):
        raise ReportError("этот класс вне вашей области доступа")
    by_class: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in shown:
        by_class[row["class_id"]].append(row)
    tables = []
    for cid, items in sorted(by_class.items()):
        teacher_id = items[0]["class_teacher_id"]
        tables.append(Table(f"class_{cid}", f"Класс {cid}: посещение электронного журнала",
                            JOURNAL_VISITS_COLUMNS, [{
            "class_id": cid, "student": row["full_name"] or row["student_id"],
            "student_id": row["student_id"],
            "last_student_visit": iso_or_none(row["last_student_visit"]),
            "last_parent_visit": iso_or_none(row["last_parent_visit"]),
            "student_days": row["student_days"], "parent_days": row["parent_days"],
            "behind": row["who"], "class_teacher": book.teacher(teacher_id),
            "class_teacher_id": teacher_id}
            for row in sorted(items, key=lambda r: (r["full_name"], r["student_id"]))]))
    until = max((row["reported_to"] for row in shown), default=None)
    summary = [("Не посещали журнал", f"{days} дн. и более"),
               ("Данные Күндөлүк по", ru_date(until) if until else "нет данных"),
               ("Классов", str(len(by_class))),
               ("Учеников, не посещавших журнал", str(sum(
                   1 for row in shown if "ученик" in row["who"]))),
               ("Учеников, чьи родители не посещали журнал", str(sum(
                   1 for row in shown if "родители" in row["who"])))]
    return Report("journal_visits", "Посещение электронного журнала учениками и родителями",
                  {"days": days}, summary, tables)


def iso_or_none(day: date | None) -> str | None:
    return day.isoformat() if day else None
