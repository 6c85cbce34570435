"""The console's classes: the list, and a class journal's page (remarks sheet with fix,
waive and print, the quarter analysis, program completion, final marks status)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_babel import gettext as _

from services.gateway.domain.access import AccessDenied
from services.gateway.queries.classes import console_classes, console_homeroom_of
from services.gateway.queries.findings import console_class_findings
from services.gateway.queries.names import school_names
from services.gateway.queries.reports import console_latest_class_report
from services.gateway.web.console import (
    DECIDERS,
    HEADS,
    blueprint,
    class_sort_key,
    current_principal,
    finding_card,
    page_school,
    reading,
)


@blueprint.get("/classes")
def classes() -> Any:
    """The classes the user may open: every class for the school's heads, their own
    homeroom classes for a (class) teacher."""
    who = current_principal()
    school_id = page_school()
    if school_id is None:
        abort(404)
    with reading() as connection:
        found = console_classes(connection, school_id)
        names = school_names(connection, school_id)
    listed = sorted(((class_id, names.class_name(class_id), names.teacher(homeroom)
                      if homeroom else "")
                     for class_id, homeroom in found if who.may_see_class(school_id, homeroom)),
                    key=lambda item: class_sort_key(item[1]))
    return render_template("console/classes.html", classes=listed,
                           heads=who.role in HEADS, school_id=school_id)


@blueprint.get("/classes/<class_id>")
def class_page(class_id: str) -> Any:
    who = current_principal()
    school_id = page_school()
    with reading() as connection:
        homeroom = console_homeroom_of(connection, school_id, class_id) if school_id else None
        if school_id is None or not who.may_see_class(school_id, homeroom):
            raise AccessDenied(_("страница чужого класса недоступна"))
        rows = console_class_findings(connection, who, school_id, class_id)
        names = school_names(connection, school_id)
        analysis = console_latest_class_report(connection, school_id, "quarter_analysis",
                                               class_id)
        program = console_latest_class_report(connection, school_id, "program_completion",
                                              class_id)
    return render_template(
        "console/class.html", class_id=class_id, class_name=names.class_name(class_id),
        homeroom=names.teacher(homeroom) if homeroom else "",
        findings=[finding_card(row, names) for row in rows], may_decide=who.role in DECIDERS,
        analysis=analysis, program=program, program_table=_table(program, "program", class_id),
        final_marks=_table(analysis, "final_marks", class_id), class_names=names.classes,
        may_print=who.role in HEADS or who.role.value == "class_teacher")


def _table(report: dict[str, Any] | None, name: str, class_id: str) -> dict[str, Any] | None:
    """One table of a report, with only this class's rows where rows name a class."""
    if report is None or not report.get("content"):
        return None
    for table in report["content"].get("tables") or []:
        if table.get("name") == name:
            rows = [row for row in table.get("rows") or []
                    if row.get("class_id") in (None, class_id)]
            return {**table, "rows": rows}
    return None
