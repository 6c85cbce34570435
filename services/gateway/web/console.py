"""The school's web console: server-rendered pages in Russian (issue 16).

A logged-in user becomes the same :class:`Principal` a token gives, put where the
API's views find it (``g.principal``), so pages are limited by the API's own scope
code (``domain/access.py``, ``findings.scoped``) and send the API's own commands.
Not API operations: none of these routes is in ``/openapi.json``.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
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
from flask_babel import Babel, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError, CSRFProtect
from natsort import natsort_keygen
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from services.gateway.adapters import users
from services.gateway.domain.access import AccessDenied, Principal, Role
from services.gateway.domain.fill_rate import FORTNIGHT_DAYS, Fortnight, percent_ru
from services.gateway.domain.trend_chart import trend_chart
from services.gateway.queries.backups import console_backups
from services.gateway.queries.findings import (
    console_finding,
    console_findings,
    console_open_counts,
    console_teacher_findings,
)
from services.gateway.queries.names import school_names
from services.gateway.queries.reports import console_fill_rate_series, console_reports
from services.gateway.queries.school_zones import school_zone
from services.gateway.runtime import gateway_of
from services.gateway.web.findings import (
    DECIDERS,
    ROLE_RU,
    finding_change_problem,
    send_finding_change,
    visible_finding,
)
from shared.events import rules

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent.parent
blueprint = Blueprint("console", __name__, url_prefix="/console",
                      template_folder=str(HERE / "templates"),
                      static_folder=str(HERE / "static"), static_url_path="/static")
csrf = CSRFProtect()
babel = Babel()

#: No inline script or style, nothing from elsewhere (no CDN), no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
OPEN_TO_ALL = frozenset({"console.login", "console.set_password", "console.static"})
HEADS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.AUDITOR})
STATUS_RU = {"open": _l("открыто"), "fixed": _l("исправлено"), "waived": _l("снято"),
             "withdrawn": _l("отозвано")}
#: rules about a lesson's own entries: what a teacher still has to enter
ENTRY_RULES = frozenset({"lesson.topic.late", "homework.late", "attendance.late"})
class_sort_key = natsort_keygen()
BACKUP_STATUS_RU = {"requested": _l("запрошена"), "completed": _l("создана"),
                    "failed": _l("не удалась"), "verified": _l("проверена"),
                    "damaged": _l("повреждена")}


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


def _user_language() -> str:
    """The logged-in user's language; Russian on the login page and for everyone else."""
    user = g.get("user")
    return user.language if user is not None else users.DEFAULT_LANGUAGE


def install(app: Any) -> None:
    """Cookie settings, sessions signed with a key kept in the database, CSRF for the
    console only, its languages (gettext catalogs beside the templates)."""
    settings = gateway_of(app).settings
    babel.init_app(app, locale_selector=_user_language, default_locale=users.DEFAULT_LANGUAGE,
                   default_translation_directories=str(HERE / "translations"))
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
        return render_template("console/error.html", title=_("Консоль недоступна"),
                               message=_("База данных шлюза недоступна. Попробуйте позже.")), 503
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
    return render_template("console/error.html", title=_("Форма устарела"),
                           message=_("Форма отправлена без действительного ключа защиты (CSRF). "
                                     "Откройте страницу заново и повторите.")), 400


@blueprint.errorhandler(AccessDenied)
def _access_denied(exc: AccessDenied) -> tuple[str, int]:
    return _refused(str(exc))


def _refused(detail: str) -> Any:
    return render_template("console/error.html", title=_("Нет доступа"),
                           message=_("Эта страница вам недоступна."), detail=detail), 403


@blueprint.errorhandler(404)
def _not_found(exc: HTTPException) -> tuple[str, int]:
    return render_template("console/error.html", title=_("Не найдено"),
                           message=_("Такой страницы нет.")), 404


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
                                   error=_("Слишком много неудачных попыток. "
                                           "Подождите 15 минут.")), 429
        user = users.check_password(connection, login_name, password) if login_name else None
        if user is None:
            users.record_failure(connection, list(limits))
            return render_template("console/login.html", login=login_name,
                                   error=_("Неверный логин или пароль.")), 401
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
                               error=_("Пароли не совпадают.")), 422
    try:
        with gateway_of(current_app).engine.begin() as connection:
            user = users.set_password(connection, code, password)
    except ValueError as exc:
        return render_template("console/set_password.html", code=code, error=str(exc)), 422
    if user is None:
        return render_template("console/set_password.html", code="",
                               error=_("Код неверен, уже использован или устарел. "
                                       "Попросите администратора выдать новый.")), 422
    flash(_("Пароль установлен. Войдите."))
    return redirect(url_for("console.login"))


def current_principal() -> Principal:
    found: Principal = g.principal
    return found


@blueprint.get("/")
def home() -> Any:
    who = current_principal()
    if who.role in (Role.TEACHER, Role.CLASS_TEACHER) and who.teacher_id:
        return redirect(url_for("console.teacher", teacher_id=who.teacher_id))
    return dashboard()


def page_school() -> str | None:
    """The school a page shows: the user's own; an admin picks one (?school_id=)."""
    return current_principal().school_filter(request.args.get("school_id") or None)


def reading() -> Any:
    """A read-only connection for a page's queries (``services/gateway/queries``)."""
    return gateway_of(current_app).engine.connect()


def zone() -> ZoneInfo:
    """The time zone of the school the page shows (its calendar's; Asia/Bishkek)."""
    if "zone" not in g:
        school_id = request.args.get("school_id") or (g.user.school_id if g.get("user")
                                                       else None)
        with reading() as connection:
            g.zone = school_zone(connection, school_id)
    found: ZoneInfo = g.zone
    return found


@blueprint.app_template_filter("local")
def local_time(moment: datetime | None, layout: str = "%d.%m.%Y %H:%M") -> str:
    """A moment as the school reads it, in its own time zone (stored in UTC)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone()).strftime(layout)


@blueprint.app_context_processor
def _page_helpers() -> dict[str, Any]:
    return {"school_zone_name": lambda: zone().key, "cell": report_cell,
            "page_language": lambda: str(get_locale() or users.DEFAULT_LANGUAGE)}


def report_cell(value: Any, column: dict[str, Any], class_names: dict[str, str]) -> str:
    """A report's cell as the page shows it: shares as «91,4 %», classes by name."""
    if value is None or value == "":
        return "—"
    if column.get("key") == "class_id":
        return class_names.get(str(value), str(value))
    if column.get("key") == "rule":
        return rules.rule_title(str(value))
    if column.get("format") == "decimal" and isinstance(value, int | float):
        return f"{value:.2f}".replace(".", ",")
    if column.get("format") == "percent" and isinstance(value, int | float):
        return percent_ru(float(value))
    if isinstance(value, dict):
        return "; ".join(f"{rules.rule_title(str(k))}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def writing() -> Any:
    """A transaction for what a page writes of the gateway's own tables (accounts)."""
    return gateway_of(current_app).engine.begin()


def dashboard() -> Any:
    who = current_principal()
    who.require(HEADS)
    school_id = page_school()
    settings = gateway_of(current_app).settings
    with reading() as connection:
        counts = console_open_counts(connection, who, school_id)
        names = school_names(connection, school_id) if school_id else None
        backups = console_backups(connection, school_id, limit=1)
        series = console_fill_rate_series(connection, school_id) if school_id else []
        analyses = console_reports(connection, school_id, kind="quarter_analysis") \
            if school_id else []
    by_rule = [(rule, rules.rule_title(rule), count) for rule, count in counts.by_rule]
    behind = [(teacher_id, names.teacher(teacher_id) if names else teacher_id, count,
               [(rules.rule_title(rule), n) for rule, n in sorted(
                   counts.owed.get(teacher_id, {}).items(), key=lambda item: (-item[1], item[0]))])
              for teacher_id, count in counts.by_teacher]
    backup = backups[0] if backups else None
    current = series[-1] if series else None
    previous = series[-2] if len(series) > 1 else None
    return render_template(
        "console/dashboard.html", school_id=school_id,
        school_name=names.school if names else _("все школы"),
        by_rule=by_rule, total=sum(count for *_, count in by_rule), behind=behind,
        backup=backup, backup_status=BACKUP_STATUS_RU.get(backup.status, backup.status)
        if backup else None,
        current=current, previous=previous, series=series, chart=trend_chart(series),
        percent=percent_ru, analyses=_analyses_by_term(analyses, names),
        next_runs=_next_runs(settings, current))


def _analyses_by_term(analyses: list[dict[str, Any]], names: Any) -> list[dict[str, Any]]:
    """Quarter analyses per term: made (ready), in progress, failed, and for which classes."""
    terms: dict[str, dict[str, Any]] = {}
    for row in analyses:
        parameters = row["parameters"] or {}
        term = terms.setdefault(str(parameters.get("term_id") or "—"),
                                {"term": str(parameters.get("term_id") or "—"), "ready": set(),
                                 "pending": set(), "failed": set()})
        bucket = term.get(row["status"])
        if isinstance(bucket, set):
            bucket.add(names.class_name(parameters.get("class_id")) if names
                       else str(parameters.get("class_id")))
    return [{**term, "ready": sorted(term["ready"]), "pending": sorted(term["pending"]),
             "failed": sorted(term["failed"])} for term in
            sorted(terms.values(), key=lambda t: t["term"], reverse=True)][:3]


def _next_runs(settings: Any, current: Fortnight | None) -> list[tuple[str, str]]:
    """What the services do next by themselves, as the school reads it: the nightly
    backup (its cron in its time zone) and the next two-week check (the checker makes it
    once the fortnight after the last one has ended)."""
    runs: list[tuple[str, str]] = []
    if settings.backup_schedule:
        local = datetime.now(UTC).astimezone(ZoneInfo(settings.backup_timezone))
        runs.append((_("Ночная резервная копия"),
                     local_time(croniter(settings.backup_schedule, local).get_next(datetime))))
    if current is not None:
        ends = current.date_to + timedelta(days=FORTNIGHT_DAYS)
        runs.append((_("Проверка заполнения за две недели"),
                     _("%(start)s – %(end)s, с %(day)s", start=f"{ends - timedelta(days=13):%d.%m}",
                       end=f"{ends:%d.%m.%Y}", day=f"{ends + timedelta(days=1):%d.%m.%Y}")))
    return runs


@blueprint.get("/teachers/<teacher_id>")
def teacher(teacher_id: str) -> Any:
    """A teacher's page (their own start page): lessons still missing an entry, their
    other open findings (deadlines first) and what was closed."""
    who = current_principal()
    school_id = page_school()
    if school_id is None or not who.may_see_teacher(school_id, teacher_id):
        raise AccessDenied(_("страница другого учителя недоступна"))
    with reading() as connection:
        open_rows = console_teacher_findings(connection, who, school_id, teacher_id)
        closed_rows = console_teacher_findings(connection, who, school_id, teacher_id,
                                               status=None)
        names = school_names(connection, school_id)
    entries = [finding_card(row, names) for row in open_rows if row.rule in ENTRY_RULES]
    other = [finding_card(row, names) for row in open_rows if row.rule not in ENTRY_RULES]
    return render_template("console/teacher.html", teacher_name=names.teacher(teacher_id),
                           own=teacher_id == who.teacher_id, entries=entries, findings=other,
                           history=[finding_card(row, names) for row in closed_rows],
                           may_decide=who.role in DECIDERS)


FINDING_FILTERS = ("rule", "teacher_id", "class_id", "status")



@blueprint.get("/findings")
def findings() -> Any:
    who = current_principal()
    school_id = page_school()
    chosen = {name: request.args.get(name, "").strip() for name in FINDING_FILTERS}
    if "status" not in request.args:
        chosen["status"] = "open"
    period = {name: _date_argument(name) for name in ("date_from", "date_to")}
    with reading() as connection:
        rows = console_findings(connection, who, school_id, chosen,
                                date_from=period["date_from"], date_to=period["date_to"])
        names = school_names(connection, school_id) if school_id else None
    return render_template(
        "console/findings.html", chosen=chosen, period=period, may_decide=who.role in DECIDERS,
        findings=[finding_card(row, names) for row in rows], statuses=STATUS_RU,
        teachers=sorted(names.teachers.items(), key=lambda item: item[1]) if names else [],
        classes=_classes_named(names),
        catalog=[(rule.id, rules.rule_title(rule.id)) for rule in rules.CATALOG.values()])


def _history_time(at: Any) -> str:
    """A history step's moment (ISO, UTC) as the school reads it."""
    try:
        return local_time(datetime.fromisoformat(str(at)))
    except ValueError:
        return str(at or "")


def _date_argument(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _classes_named(names: Any) -> list[tuple[str, str]]:
    if names is None:
        return []
    return sorted(names.classes.items(), key=lambda item: class_sort_key(item[1]))


@blueprint.get("/findings/<finding_id>")
def finding(finding_id: str) -> Any:
    """A finding's evidence and history."""
    who = current_principal()
    with reading() as connection:
        row = console_finding(connection, who, finding_id)
        names = school_names(connection, row.school_id) if row is not None else None
    if row is None:
        abort(404)
    return render_template("console/finding.html", finding=finding_card(row, names),
                           evidence=row.evidence or {}, statuses=STATUS_RU,
                           history=[{**step, "at": _history_time(step.get("at"))}
                                    for step in row.history or []],
                           may_decide=who.role in DECIDERS)


@blueprint.post("/findings/<finding_id>")
def change_finding(finding_id: str) -> Any:
    """Fix or waive with a reason: the same check and command as the API's PATCH."""
    return _change_findings([finding_id])


@blueprint.post("/findings")
def change_findings() -> Any:
    """Fix or waive several ticked findings at once, with one reason."""
    chosen = [value[:64] for value in request.form.getlist("finding_id")][:200]
    if not chosen:
        flash(_("Не выбрано ни одного замечания."), "error")
        return redirect(_back()), 303
    return _change_findings(chosen)


def _back() -> str:
    """Where a form returns to: the console page it was posted from (never elsewhere)."""
    back = request.form.get("back", "")
    prefix = blueprint.url_prefix or "/console"
    if back.startswith(prefix + "/") and not back.startswith("//") and "\\" not in back:
        return back
    return url_for("console.findings")


def _change_findings(finding_ids: list[str]) -> Any:
    who = current_principal()
    who.require(DECIDERS)
    rows = [visible_finding(finding_id) for finding_id in finding_ids]
    if any(row is None for row in rows):
        abort(404)
    status = request.form.get("status")
    comment = request.form.get("comment", "").strip() or None
    problem = finding_change_problem(status, comment)
    if problem is not None:
        flash(_("Чтобы снять замечание, укажите обоснование.") if status == "waived"
              else _("Неизвестное действие."), "error")
        return redirect(_back()), 303
    user = g.user
    actor = f"{ROLE_RU.get(who.role, who.role.value)} {user.full_name} (пользователь {user.login})"
    # Each change is recorded in the command outbox (sent now, or once the broker is back).
    for finding_id, row in zip(finding_ids, rows, strict=True):
        send_finding_change(row["school_id"], finding_id, str(status), comment, actor)
    flash(_("Замечание %(ids)s: отправлено «%(status)s».", ids=", ".join(finding_ids),
            status=STATUS_RU[str(status)]))
    return redirect(_back()), 303


def finding_card(row: Any, names: Any) -> dict[str, Any]:
    return {"id": row.id, "rule": row.rule, "rule_title": rules.rule_title(row.rule),
            "status": row.status, "status_ru": STATUS_RU.get(row.status, row.status),
            "date": row.date, "message": row.message,
            "teacher": names.teacher(row.teacher_id) if names and row.teacher_id else "",
            "class_name": names.class_name(row.class_id) if names and row.class_id else ""}


# The console's other pages register on this blueprint (imported last: they use the above).
import services.gateway.web.console_backups  # noqa: E402
import services.gateway.web.console_classes  # noqa: E402
import services.gateway.web.console_printing  # noqa: E402
import services.gateway.web.console_reports  # noqa: E402
import services.gateway.web.console_settings  # noqa: E402, F401
