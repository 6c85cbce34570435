"""The console's reports: a form per report kind, the report's progress (the page
refreshes itself while the checker makes it: no script), its tables on the page and its
downloads (XLSX, CSV; PDF as a print job). Requests go through the API's own code
(``request_errors``, ``start_report``), so a form asks exactly what a POST asks."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.gateway.domain.access import Role
from services.gateway.domain.report_requests import request_errors
from services.gateway.queries.names import school_names
from services.gateway.queries.reports import console_report, console_reports
from services.gateway.web.console import (
    blueprint,
    class_sort_key,
    current_principal,
    page_school,
    reading,
)
from services.gateway.web.downloads import CSV_TYPE, XLSX_TYPE, csv_body, download, xlsx_body
from services.gateway.web.reports import SCOPED, report_sheets, report_visible_to, start_report

#: field -> (Russian label, input kind); the kinds are drawn by report_forms.html
FIELDS: dict[str, tuple[Any, str]] = {
    "date_from": (_l("С"), "date"), "date_to": (_l("По"), "date"), "on": (_l("На дату"), "date"),
    "class_id": (_l("Класс"), "class"), "teacher_id": (_l("Учитель"), "teacher"),
    "subject_id": (_l("Предмет"), "subject"), "term_id": (_l("Период (например, q1)"), "text"),
    "by": (_l("Группировать"), "by"), "basis": (_l("Основа"), "basis"),
    "days": (_l("Не посещали, дней"), "number"),
}
#: kind -> (title, fields) in the order the API's docs list them (docs/reports.md)
REPORT_FORMS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "fill_rate": (_l("Заполнение журнала"), ("date_from", "date_to", "class_id", "teacher_id")),
    "quarter_analysis": (_l("Анализ классного журнала за четверть"), ("class_id", "term_id")),
    "program_completion": (_l("Выполнение программы (КТП)"), ("on", "class_id")),
    "teacher_summary": (_l("Сводка по учителям"), ("term_id", "teacher_id")),
    "academic_results": (_l("Успеваемость и качество знаний"),
                         ("by", "term_id", "basis", "class_id", "subject_id", "teacher_id")),
    "marks_objectivity": (_l("Объективность итоговых отметок"),
                          ("term_id", "class_id", "subject_id", "teacher_id")),
    "journal_visits": (_l("Посещение журнала учениками и родителями"), ("class_id", "days")),
}
CHOICES = {"by": (("class", _l("по классам")), ("subject", _l("по предметам")),
                  ("teacher", _l("по учителям")), ("parallel", _l("по параллелям"))),
           "basis": (("final", _l("итоговые отметки")), ("current", _l("текущие отметки")))}
STATUS_RU = {"pending": _l("готовится"), "ready": _l("готов"), "failed": _l("не удался")}


@blueprint.get("/reports")
def reports() -> Any:
    who = current_principal()
    school_id = page_school()
    with reading() as connection:
        listed = [row for row in console_reports(connection, school_id, limit=50)
                  if report_visible_to(who, row)]
        names = school_names(connection, school_id) if school_id else None
    return render_template(
        "console/reports.html", forms=REPORT_FORMS, fields=FIELDS, choices=CHOICES,
        reports=listed, statuses=STATUS_RU, titles={k: v[0] for k, v in REPORT_FORMS.items()},
        classes=sorted(names.classes.items(), key=lambda item: class_sort_key(item[1]))
        if names else [],
        teachers=sorted(names.teachers.items(), key=lambda item: item[1]) if names else [],
        subjects=sorted(names.subjects.items(), key=lambda item: item[1]) if names else [],
        names=names)


@blueprint.post("/reports")
def request_report() -> Any:
    who = current_principal()
    school_id = page_school()
    kind = request.form.get("kind", "")
    if kind not in REPORT_FORMS or school_id is None:
        abort(404)
    parameters: dict[str, Any] = {}
    for name in REPORT_FORMS[kind][1]:
        value = request.form.get(name, "").strip()
        if value:
            parameters[name] = int(value) if FIELDS[name][1] == "number" and \
                value.isdigit() else value
    errors, loaded = request_errors({"kind": kind, "parameters": parameters})
    if errors:
        problems = errors.get("parameters", errors)
        flash(_("Отчёт заполнен неверно: %(problems)s", problems="; ".join(
            f"{FIELDS.get(name, (name,))[0]}: {', '.join(map(str, text))}"
            for name, text in problems.items())), "error")
        return redirect(url_for("console.reports")), 303
    if who.role in SCOPED and not who.teacher_id:
        abort(403)
    started = start_report(who, school_id, kind, loaded)
    if started.busy_with is not None:
        flash(_("Такой отчёт для школы уже готовится; дождитесь его."), "error")
        return redirect(url_for("console.reports")), 303
    return redirect(url_for("console.report", report_id=started.job_id)), 303


def _visible_report(report_id: str) -> dict[str, Any]:
    with reading() as connection:
        row = console_report(connection, report_id)
    if row is None or not report_visible_to(current_principal(), row):
        abort(404)
    return row


@blueprint.get("/reports/<report_id>")
def report(report_id: str) -> Any:
    row = _visible_report(report_id)
    with reading() as connection:
        names = school_names(connection, row["school_id"])
    title = REPORT_FORMS.get(row["kind"], (row["kind"],))[0]
    may_print = current_principal().role in (Role.ADMIN, Role.DIRECTOR, Role.DEPUTY,
                                             Role.CLASS_TEACHER, Role.TEACHER)
    return render_template("console/report.html", row=row, title=title,
                           content=row["content"] or {}, status=STATUS_RU.get(row["status"]),
                           poll_url=url_for("console.report_state", report_id=report_id)
                           if row["status"] == "pending" else None, poll_state=row["status"],
                           may_print=may_print and row["status"] == "ready",
                           hidden_keys=("subject_id", "teacher_id", "lesson_ids"),
                           class_names=names.classes)


@blueprint.get("/reports/<report_id>/state")
def report_state(report_id: str) -> Any:
    """What console.js asks while the report is made (the page reloads when it changes)."""
    return jsonify({"state": _visible_report(report_id)["status"]})


@blueprint.get("/reports/<report_id>/download")
def download_report(report_id: str) -> Any:
    """The report as the API gives it: all tables as XLSX, or one table as CSV."""
    row = _visible_report(report_id)
    if row["status"] != "ready":
        abort(404)
    wanted = request.args.get("format", "xlsx")
    content = row["content"]
    with reading() as connection:
        names = school_names(connection, row["school_id"])
    sheets = report_sheets(content, names, typed=wanted == "xlsx")
    stem = "_".join(str(content.get("title") or content["kind"]).split())
    if wanted == "xlsx":
        return download(xlsx_body(sheets), XLSX_TYPE, f"{stem}_{report_id}.xlsx")
    tables = [table["name"] for table in content["tables"]]
    chosen = request.args.get("table", tables[0] if tables else "")
    if wanted != "csv" or chosen not in tables:
        abort(404)
    return download(csv_body(sheets[tables.index(chosen)]), CSV_TYPE,
                    f"{stem}_{chosen}_{report_id}.csv")
