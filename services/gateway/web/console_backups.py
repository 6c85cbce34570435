"""The console's backups and archive registry: the list with status, "make one now" (the
API's own ``start_backup``); each backup is verified by a trial restore when it is made."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services.gateway.domain.access import BACKUP_MAKERS, BACKUP_READERS
from services.gateway.queries.backups import console_archive, console_backups
from services.gateway.queries.names import school_names
from services.gateway.web.backups import start_backup
from services.gateway.web.console import (
    BACKUP_STATUS_RU,
    blueprint,
    current_principal,
    page_school,
    reading,
)
from shared.events.messages import ALL_SCHOOLS

KIND_RU = {"daily": _l("ночная"), "half_year": _l("за полугодие"), "manual": _l("по запросу"),
           "year_end": _l("на конец года")}


@blueprint.get("/backups")
def backups() -> Any:
    who = current_principal()
    who.require(BACKUP_READERS)
    school_id = page_school()
    with reading() as connection:
        listed = console_backups(connection, school_id)
        archive = console_archive(connection, school_id)
        names = school_names(connection, school_id) if school_id else None
    waiting = _waiting(listed)
    return render_template(
        "console/backups.html", backups=listed, archive=archive, statuses=BACKUP_STATUS_RU,
        kinds=KIND_RU, may_make=who.role in BACKUP_MAKERS,
        poll_url=url_for("console.backups_state") if waiting else None, poll_state=waiting,
        class_name=names.class_name if names else str, all_schools=ALL_SCHOOLS)


def _waiting(listed: list[Any]) -> str:
    return " ".join(row.id for row in listed if row.status == "requested")


@blueprint.get("/backups/state")
def backups_state() -> Any:
    """What console.js asks while a backup is made (the list reloads when it changes)."""
    current_principal().require(BACKUP_READERS)
    with reading() as connection:
        listed = console_backups(connection, page_school())
    return jsonify({"state": _waiting(listed)})


@blueprint.post("/backups")
def make_backup() -> Any:
    who = current_principal()
    who.require(BACKUP_MAKERS)
    scope = page_school() or ALL_SCHOOLS
    started = start_backup(who, scope)
    if started.busy_with is not None:
        flash(_("Резервная копия уже создаётся; дождитесь её."), "error")
    else:
        flash(_("Резервная копия запрошена: %(id)s.", id=started.job_id))
    return redirect(url_for("console.backups")), 303
