"""The school's web console: server-rendered pages in Russian (issue 16).

A logged-in user becomes the same :class:`Principal` a token gives, put where the
API's views find it (``g.principal``), so pages are limited by the API's own scope
code (``domain/access.py``, ``findings.scoped``) and send the API's own commands.
Not API operations: none of these routes is in ``/openapi.json``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from services.gateway.adapters import users
from services.gateway.adapters.names import school_names
from services.gateway.adapters.tables import backups_view, findings_view
from services.gateway.domain.access import AccessDenied, Principal, Role
from services.gateway.runtime import gateway_of
from services.gateway.web.findings import (
    DECIDERS,
    ROLE_RU,
    finding_change_problem,
    scoped,
    send_finding_change,
    visible_finding,
)
from shared.events import rules
from shared.events.messages import ALL_SCHOOLS

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent.parent
blueprint = Blueprint("console", __name__, url_prefix="/console",
                      template_folder=str(HERE / "templates"),
                      static_folder=str(HERE / "static"), static_url_path="/static")
csrf = CSRFProtect()

#: No inline script or style, nothing from elsewhere (no CDN), no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
OPEN_TO_ALL = frozenset({"console.login", "console.set_password", "console.static"})
HEADS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.AUDITOR})
STATUS_RU = {"open": "открыто", "fixed": "исправлено", "waived": "снято",
             "withdrawn": "отозвано"}
BACKUP_STATUS_RU = {"requested": "запрошена", "completed": "создана", "failed": "не удалась",
                    "verified": "проверена", "damaged": "повреждена"}


class ConsoleSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, for the console's paths only, its key read when first needed.

    The key lives in the gateway's database; the gateway must start and take webhooks
    while that database is down, so it is not read at start-up, and requests other than
    the console's (webhook, API: no cookies) get no session at all.
    """

    def open_session(self, app: Any, request: Any) -> SecureCookieSession | None:
        if not request.path.startswith(blueprint.url_prefix or "/console"):
            return None
        if not app.secret_key:
            try:
                with gateway_of(app).engine.connect() as connection:
                    app.secret_key = users.signing_key(connection)
            except DBAPIError:
                log.exception("cannot read the console's signing key")
                return None
        return super().open_session(app, request)


def install(app: Any) -> None:
    """Cookie settings, sessions signed with a key kept in the database, CSRF for the
    console only."""
    settings = gateway_of(app).settings
    app.session_interface = ConsoleSessions()
    app.config.update(
        SESSION_COOKIE_NAME="kozomol_console", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.console_secure_cookie,
        SESSION_COOKIE_PATH="/console",
        # The API and the webhook take no cookies; only the console's forms are checked.
        WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None)
    csrf.init_app(app)
    app.register_blueprint(blueprint)


@blueprint.before_request
def _authenticate() -> Any:
    if not current_app.secret_key and request.endpoint != "console.static":
        return render_template("console/error.html", title="Консоль недоступна",
                               message="База данных шлюза недоступна. Попробуйте позже."), 503
    if request.method == "POST":
        csrf.protect()
    if request.endpoint in OPEN_TO_ALL:
        return None
    settings = gateway_of(current_app).settings
    session_id = session.get("sid")
    user = None
    if isinstance(session_id, str):
        with gateway_of(current_app).engine.begin() as connection:
            user = users.session_user(
                connection, session_id, idle=timedelta(minutes=settings.console_idle_minutes),
                absolute=timedelta(hours=settings.console_absolute_hours))
    if user is None:
        session.clear()
        return redirect(url_for("console.login"))
    g.user = user
    g.principal = user.principal()
    if request.method == "POST" and request.endpoint != "console.logout":
        try:
            g.principal.require_write()
        except AccessDenied as exc:
            return _refused(str(exc))
    return None


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.errorhandler(CSRFError)
def _csrf_refused(exc: CSRFError) -> tuple[str, int]:
    return render_template("console/error.html", title="Форма устарела",
                           message="Форма отправлена без действительного ключа защиты (CSRF). "
                                   "Откройте страницу заново и повторите."), 400


@blueprint.errorhandler(AccessDenied)
def _access_denied(exc: AccessDenied) -> tuple[str, int]:
    return _refused(str(exc))


def _refused(detail: str) -> Any:
    return render_template("console/error.html", title="Нет доступа",
                           message="Эта страница вам недоступна.", detail=detail), 403


@blueprint.errorhandler(404)
def _not_found(exc: HTTPException) -> tuple[str, int]:
    return render_template("console/error.html", title="Не найдено",
                           message="Такой страницы нет."), 404


def _client_address() -> str:
    return request.remote_addr or "unknown"


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("console/login.html")
    settings = gateway_of(current_app).settings
    login_name = request.form.get("login", "").strip()[:100]
    password = request.form.get("password", "")
    limits = {f"account:{login_name}": settings.console_account_failures,
              f"address:{_client_address()}": settings.console_address_failures}
    with gateway_of(current_app).engine.begin() as connection:
        if users.throttled(connection, limits):
            return render_template("console/login.html", login=login_name,
                                   error="Слишком много неудачных попыток. "
                                         "Подождите 15 минут."), 429
        user = users.check_password(connection, login_name, password) if login_name else None
        if user is None:
            users.record_failure(connection, list(limits))
            return render_template("console/login.html", login=login_name,
                                   error="Неверный логин или пароль."), 401
        session_id = users.start_session(connection, user.id)
    session.clear()  # a new cookie (and CSRF key) after login: no session fixation
    session["sid"] = session_id
    return redirect(url_for("console.home"))


@blueprint.post("/logout")
def logout() -> BaseResponse:
    with gateway_of(current_app).engine.begin() as connection:
        users.end_session(connection, session["sid"])
    session.clear()
    return redirect(url_for("console.login"))


@blueprint.route("/set-password", methods=["GET", "POST"])
def set_password() -> Any:
    """Where an invitation or reset code is used once to choose a password."""
    if request.method == "GET":
        return render_template("console/set_password.html", code=request.args.get("code", ""))
    code = request.form.get("code", "").strip()
    password = request.form.get("password", "")
    if password != request.form.get("password_again", ""):
        return render_template("console/set_password.html", code=code,
                               error="Пароли не совпадают."), 422
    try:
        with gateway_of(current_app).engine.begin() as connection:
            user = users.set_password(connection, code, password)
    except ValueError as exc:
        return render_template("console/set_password.html", code=code, error=str(exc)), 422
    if user is None:
        return render_template("console/set_password.html", code="",
                               error="Код неверен, уже использован или устарел. "
                                     "Попросите администратора выдать новый."), 422
    flash("Пароль установлен. Войдите.")
    return redirect(url_for("console.login"))


def _who() -> Principal:
    found: Principal = g.principal
    return found


@blueprint.get("/")
def home() -> Any:
    who = _who()
    if who.role in (Role.TEACHER, Role.CLASS_TEACHER) and who.teacher_id:
        return redirect(url_for("console.teacher", teacher_id=who.teacher_id))
    return dashboard()


def _school() -> str | None:
    """The school a page shows: the user's own; an admin picks one (?school_id=)."""
    return _who().school_filter(request.args.get("school_id") or None)


def dashboard() -> Any:
    who = _who()
    who.require(HEADS)
    school_id = _school()
    open_findings = scoped(select(findings_view.c.rule, findings_view.c.teacher_id,
                                  findings_view.c.id).where(findings_view.c.status == "open"),
                           who)
    if school_id is not None:
        open_findings = open_findings.where(findings_view.c.school_id == school_id)
    listed = open_findings.subquery()
    by_rule_query = (select(listed.c.rule, func.count().label("count"))
                     .group_by(listed.c.rule).order_by(func.count().desc(), listed.c.rule))
    behind_query = (select(listed.c.teacher_id, func.count().label("count"))
                    .where(listed.c.teacher_id.is_not(None)).group_by(listed.c.teacher_id)
                    .order_by(func.count().desc(), listed.c.teacher_id).limit(10))
    backup_query = select(backups_view).order_by(backups_view.c.requested_at.desc()).limit(1)
    if school_id is not None:
        backup_query = backup_query.where(backups_view.c.scope.in_((school_id, ALL_SCHOOLS)))
    with gateway_of(current_app).engine.connect() as connection:
        by_rule = [(row.rule, rules.rule_title(row.rule), row.count)
                   for row in connection.execute(by_rule_query)]
        names = school_names(connection, school_id) if school_id else None
        behind = [(row.teacher_id, names.teacher(row.teacher_id) if names else row.teacher_id,
                   row.count) for row in connection.execute(behind_query)]
        backup = connection.execute(backup_query).first()
    return render_template("console/dashboard.html", school_id=school_id,
                           school_name=names.school if names else "все школы",
                           by_rule=by_rule, total=sum(count for *_, count in by_rule),
                           behind=behind, backup=backup,
                           backup_status=BACKUP_STATUS_RU.get(backup.status, backup.status)
                           if backup else None)


@blueprint.get("/teachers/<teacher_id>")
def teacher(teacher_id: str) -> Any:
    """A teacher's page (their own start page): their open findings, deadlines first."""
    who = _who()
    school_id = _school()
    if school_id is None or not who.may_see_teacher(school_id, teacher_id):
        raise AccessDenied("страница другого учителя недоступна")
    query = scoped(select(findings_view).where(findings_view.c.school_id == school_id,
                                               findings_view.c.teacher_id == teacher_id,
                                               findings_view.c.status == "open"), who)
    with gateway_of(current_app).engine.connect() as connection:
        rows = connection.execute(query.order_by(findings_view.c.date)).all()
        names = school_names(connection, school_id)
    return render_template("console/teacher.html", teacher_name=names.teacher(teacher_id),
                           own=teacher_id == who.teacher_id,
                           findings=[_finding(row, names) for row in rows])


FINDING_FILTERS = ("rule", "teacher_id", "class_id", "status")


@blueprint.get("/findings")
def findings() -> Any:
    who = _who()
    school_id = _school()
    chosen = {name: request.args.get(name, "").strip() for name in FINDING_FILTERS}
    if "status" not in request.args:
        chosen["status"] = "open"
    query = scoped(select(findings_view), who)
    if school_id is not None:
        query = query.where(findings_view.c.school_id == school_id)
    for name, value in chosen.items():
        if value:
            query = query.where(findings_view.c[name] == value[:64])
    query = query.order_by(findings_view.c.date.desc(), findings_view.c.id.desc()).limit(200)
    with gateway_of(current_app).engine.connect() as connection:
        rows = connection.execute(query).all()
        names = school_names(connection, school_id) if school_id else None
    return render_template(
        "console/findings.html", chosen=chosen, may_decide=who.role in DECIDERS,
        findings=[_finding(row, names) for row in rows], statuses=STATUS_RU,
        catalog=[(rule.id, rules.rule_title(rule.id)) for rule in rules.CATALOG.values()])


@blueprint.post("/findings/<finding_id>")
def change_finding(finding_id: str) -> Any:
    """Fix or waive with a reason: the same check and command as the API's PATCH."""
    who = _who()
    who.require(DECIDERS)
    row = visible_finding(finding_id)
    if row is None:
        abort(404)
    status = request.form.get("status")
    comment = request.form.get("comment", "").strip() or None
    problem = finding_change_problem(status, comment)
    if problem is not None:
        flash("Чтобы снять замечание, укажите обоснование." if status == "waived"
              else "Неизвестное действие.", "error")
        return redirect(url_for("console.findings")), 303
    user = g.user
    actor = f"{ROLE_RU.get(who.role, who.role.value)} {user.full_name} (пользователь {user.login})"
    if send_finding_change(row["school_id"], finding_id, str(status), comment, actor) is None:
        flash("Сервис сообщений недоступен, попробуйте позже.", "error")
    else:
        flash(f"Замечание {finding_id}: отправлено «{STATUS_RU[str(status)]}».")
    return redirect(url_for("console.findings")), 303


def _finding(row: Any, names: Any) -> dict[str, Any]:
    return {"id": row.id, "rule": row.rule, "rule_title": rules.rule_title(row.rule),
            "status": row.status, "status_ru": STATUS_RU.get(row.status, row.status),
            "date": row.date, "message": row.message,
            "teacher": names.teacher(row.teacher_id) if names and row.teacher_id else "",
            "class_name": names.class_name(row.class_id) if names and row.class_id else ""}
