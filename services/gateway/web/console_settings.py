"""The console's settings: the school's rule parameters within the catalog's bounds (the
API's ``parameter_errors`` and command), staff accounts for the director and the admin
(as ``kozomol users`` makes them), and each user's own profile (the console's language)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services.gateway.adapters import audit, users
from services.gateway.domain.access import TOKEN_ISSUERS, Role
from services.gateway.queries.rule_parameters import console_parameters_in_force
from services.gateway.web.console import (
    HEADS,
    ROLE_RU,
    blueprint,
    current_principal,
    page_school,
    reading,
    writing,
)
from services.gateway.web.findings import send_parameters_change
from shared.events import rules

PARAMETER_EDITORS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})
LANGUAGES_RU = {"ru": "Русский", "ky": "Кыргызча"}


def _parameter_rows(values: dict[str, Any]) -> list[dict[str, Any]]:
    """Each parameter once, with the rules that use it, its value and its bounds."""
    used_by: dict[str, list[str]] = {}
    for rule_id, names in rules.RULE_PARAMETERS.items():
        for name in names:
            used_by.setdefault(name, []).append(rules.rule_title(rule_id))
    rows = []
    for name in sorted(values, key=lambda n: (",".join(used_by.get(n, ["~"])), n)):
        bounds: tuple[Any, ...]
        if name in rules.CHOICE_DEFAULTS:
            kind, bounds = "choice", rules.CHOICE_DEFAULTS[name][1]
        elif name in rules.SUBJECT_LIST_DEFAULTS:
            kind, bounds = "subjects", ()
        else:
            kind, bounds = "number", rules.PARAMETER_BOUNDS.get(name, (0, 365))
        value = values[name]
        rows.append({"name": name, "kind": kind, "bounds": bounds, "rules": used_by.get(name, []),
                     "value": ", ".join(value) if isinstance(value, list) else value})
    return rows


@blueprint.get("/settings")
def settings() -> Any:
    return _settings_page()


def _settings_page(new_account: dict[str, str] | None = None) -> Any:
    who = current_principal()
    who.require(HEADS)
    school_id = page_school()
    values: dict[str, Any] = {}
    accounts: list[dict[str, Any]] = []
    with reading() as connection:
        if school_id is not None:
            values = console_parameters_in_force(connection, school_id)
        if who.role in TOKEN_ISSUERS:
            accounts = users.list_users(connection, school_id)
    return render_template(
        "console/settings.html", parameters=_parameter_rows(values), school_id=school_id,
        may_edit=who.role in PARAMETER_EDITORS and school_id is not None, accounts=accounts,
        may_manage=who.role in TOKEN_ISSUERS, roles=ROLE_RU,
        issuable=sorted(TOKEN_ISSUERS.get(who.role, frozenset()), key=lambda r: r.value),
        languages=LANGUAGES_RU, new_account=new_account)


@blueprint.post("/settings/parameters")
def change_parameters() -> Any:
    who = current_principal()
    who.require(PARAMETER_EDITORS)
    school_id = page_school()
    if school_id is None:
        abort(404)
    with reading() as connection:
        current = console_parameters_in_force(connection, school_id)
    changed: dict[str, Any] = {}
    for name, old in current.items():
        raw = request.form.get(name)
        if raw is None:
            continue
        value: Any = raw.strip()
        if name in rules.SUBJECT_LIST_DEFAULTS:
            value = [item.strip() for item in value.split(",") if item.strip()]
        elif name not in rules.CHOICE_DEFAULTS:
            with contextlib.suppress(ValueError):  # parameter_errors says what is wrong
                value = int(value)
        if value != old:
            changed[name] = value
    if not changed:
        flash(_("Ничего не изменено."))
        return redirect(url_for("console.settings")), 303
    errors = rules.parameter_errors(changed)
    if errors:
        flash(_("Параметры не изменены: %(problems)s", problems="; ".join(
            f"{name}: {', '.join(text)}" for name, text in errors.items())), "error")
        return redirect(url_for("console.settings")), 303
    # Recorded in the command outbox: sent now, or by the relay once the broker is back.
    send_parameters_change(who, school_id, changed)
    flash(_("Изменение отправлено проверке: %(names)s.", names=", ".join(sorted(changed))))
    return redirect(url_for("console.settings")), 303


@blueprint.post("/settings/accounts")
def create_account() -> Any:
    """A director or admin makes an account; its one-time link is shown on this answer
    only (never in a redirect, the cookie or a log)."""
    who = current_principal()
    if who.role not in TOKEN_ISSUERS:
        abort(403)
    form = request.form
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        abort(422)
    school_id = None if role is Role.ADMIN else (page_school() or form.get("school_id") or None)
    if not who.may_issue(role, school_id):
        abort(403)
    try:
        with writing() as connection:
            user, code = users.create_user(
                connection, form.get("login", "").strip()[:100],
                form.get("full_name", "").strip()[:200], role, school_id=school_id,
                teacher_id=form.get("teacher_id", "").strip()[:64] or None,
                language=form.get("language", users.DEFAULT_LANGUAGE))
            _audit(connection, "user.created", user, "console settings")
    except ValueError as exc:
        flash(_("Учётная запись не создана: %(why)s", why=str(exc)), "error")
        return redirect(url_for("console.settings")), 303
    return _settings_page({"login": user.login, "code": code,
                           "link": url_for("console.set_password", code=code, _external=True)})


@blueprint.post("/settings/accounts/<user_id>/disable")
def disable_account(user_id: str) -> Any:
    """Clause 3.2: the account's sessions end and its API tokens are revoked at once."""
    who = current_principal()
    if who.role not in TOKEN_ISSUERS:
        abort(403)
    with writing() as connection:
        found = [row for row in users.list_users(connection, who.school_id)
                 if row["id"] == user_id]
        if not found or not who.may_issue(Role(found[0]["role"]), found[0]["school_id"]):
            abort(404)
        revoked = users.disable(connection, user_id)
        account = users.find_user(connection, found[0]["login"])
        assert account is not None
        _audit(connection, "user.disable", account, "console settings")
    flash(_("Учётная запись %(login)s отключена: сеансы завершены, токенов отозвано: %(n)s.",
            login=found[0]["login"], n=revoked))
    return redirect(url_for("console.settings")), 303


def _audit(connection: Any, action: str, user: users.User, resource: str) -> None:
    who = current_principal()
    audit.record(connection, at=datetime.now(UTC), action=action, resource=resource,
                 target={"user_id": user.id, "role": user.role.value,
                         "school_id": user.school_id or "*"},
                 token_id=who.token_id, role=who.role.value, school_id=user.school_id,
                 address=request.remote_addr)


@blueprint.route("/profile", methods=["GET", "POST"])
def profile() -> Any:
    """The user's own page: the console's language (Russian by default, or Kyrgyz)."""
    user = g.user
    if request.method == "POST":
        language = request.form.get("language", "")
        if language not in users.LANGUAGES:
            abort(422)
        with writing() as connection:
            users.set_language(connection, user.id, language)
        return redirect(url_for("console.profile")), 303
    return render_template("console/profile.html", languages=LANGUAGES_RU,
                           role=ROLE_RU.get(user.role, user.role.value))
