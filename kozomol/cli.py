"""The ``kozomol`` command.

Heavy imports happen inside each command: the gateway command must set up
Prometheus' multiprocess folder before any metric is created.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kozomol.cli_common import cli_logging as _logging
from kozomol.cli_common import cli_settings as _settings
from kozomol.cli_common import consumer_command
from shared.settings import SERVICES, Settings, SettingsError, with_embedded_secret

if TYPE_CHECKING:
    from sqlalchemy import Engine


@click.group()
def main() -> None:
    """Kozomol: supervision of the Kundoluk electronic school journal."""


@main.command()
@click.option("--host", default=None, help="Address to bind (default KOZOMOL_HTTP_HOST).")
@click.option("--port", type=int, default=None, help="Port (default KOZOMOL_HTTP_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Run all five services in one process (embedded default: SQLite + in-process broker).

    Its first lines say where it listens and how to get in; the logs follow
    (in a terminal they go to ``<data dir>/kozomol.log`` instead).
    """
    settings = _settings()
    try:
        settings = with_embedded_secret(settings)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    from shared.logs import configure_logging

    log_file = settings.data_dir / "kozomol.log" if sys.stderr.isatty() else None
    release_logs = configure_logging(settings.log_level, path=log_file, hold=True)
    from kozomol.embedded import EmbeddedKozomol

    kozomol = EmbeddedKozomol(settings, host=host or settings.http_host,
                              port=settings.http_port if port is None else port)
    for line in serve_banner(kozomol.url, settings, log_file):
        click.echo(line)
    sys.stdout.flush()
    release_logs()
    kozomol.serve_forever()


def serve_banner(url: str, settings: Settings, log_file: Path | None) -> list[str]:
    """What ``kozomol serve`` prints first: where it is and how to get in."""
    data_dir = f"KOZOMOL_DATA_DIR={settings.data_dir} " if settings.data_dir != (
        Path("var").resolve()) else ""
    return [
        f"Kozomol serves {url}",
        f"  API:                    {url}/api/v1/…, described at {url}/openapi.json",
        f"  a token for the API:    {data_dir}kozomol tokens create --role deputy "
        "--school <school id>",
        f"  Kundoluk's webhooks:    POST {url}/webhooks/kundoluk "
        f"(try: {data_dir}kozomol webhook send --url {url}/webhooks/kundoluk "
        "docs/examples/first-events.json)",
        f"  data:                   {settings.data_dir}",
        f"  logs:                   {log_file or 'JSON lines on standard error, below'}",
        "  Ctrl+C stops it.",
    ]


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=None, help="gunicorn worker processes.")
def gateway(host: str | None, port: int | None, workers: int | None) -> None:
    """Run the gateway alone under gunicorn (production)."""
    settings = _settings()
    if settings.embedded_broker:
        raise click.ClickException(
            "the in-process broker lives inside one process: use `kozomol serve`, "
            "or set KOZOMOL_BROKER_URL to a RabbitMQ URL")
    if not settings.webhook_secrets:
        raise click.ClickException("KOZOMOL_WEBHOOK_SECRETS is required")
    _logging(settings)
    from kozomol.metrics_dir import prepare_multiprocess_metrics

    prepare_multiprocess_metrics(settings)
    from services.gateway.server import run_gunicorn

    run_gunicorn(settings, host=host or settings.http_host,
                 port=settings.http_port if port is None else port,
                 workers=workers or settings.gateway_workers)


for _name in ("printer",):
    main.add_command(consumer_command(_name))


def _add_backup_group() -> None:
    from kozomol.backup_cli import backup

    main.add_command(backup)


_add_backup_group()


def _add_notifier_group() -> None:
    from kozomol.notifier_cli import notifier

    main.add_command(notifier)


_add_notifier_group()


@click.group(invoke_without_command=True)
@click.pass_context
def checker(context: click.Context) -> None:
    """Run the checker service alone (consumes its queue and sweeps every minute)."""
    if context.invoked_subcommand is None:
        context.invoke(consumer_command("checker"))


@checker.command("sweep")
@click.option("--school", "school_ids", multiple=True, help="Only these schools (default: all).")
@click.option("--at", "at", default=None, help="Judge as of this moment (ISO 8601 with offset).")
def checker_sweep(school_ids: tuple[str, ...], at: str | None) -> None:
    """Evaluate every rule now and update the findings."""
    from datetime import UTC, datetime

    from services.checker.handlers import sweep
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade

    settings = _settings()
    url = settings.database_url_for("checker")
    if settings.embedded_broker:
        upgrade(url, "checker", SERVICES)
    moment = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if moment.tzinfo is None:
        raise click.BadParameter("--at needs a UTC offset, e.g. 2026-11-09T00:00:00+06:00")
    engine = make_engine(url)
    try:
        result = sweep(engine, lambda: moment, school_ids=list(school_ids) or None)
    finally:
        engine.dispose()
    click.echo(f"{result.schools} school(s): {result.findings} findings hold, "
               f"{result.opened} opened, {result.withdrawn} withdrawn")


@checker.command("report")
@click.argument("kind", type=click.Choice(["fill_rate", "quarter_analysis",
                                           "program_completion", "teacher_summary",
                                           "academic_results", "marks_objectivity",
                                           "journal_visits"]))
@click.option("--school", "school_id", required=True)
@click.option("--param", "parameters", multiple=True, metavar="NAME=VALUE",
              help="A report parameter (docs/reports.md), e.g. class_id=5a; repeatable.")
@click.option("--at", "at", default=None, help="As of this moment (ISO 8601 with offset).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON instead of tables.")
def checker_report(kind: str, school_id: str, parameters: tuple[str, ...], at: str | None,
                   as_json: bool) -> None:
    """Print a monitoring report from the checker's data (as of its last sweep)."""
    from datetime import UTC, datetime

    import orjson

    from kozomol.report_text import report_as_text
    from services.checker.domain.reports import ReportError
    from services.checker.reporting import make_report
    from services.gateway.domain.report_requests import request_errors
    from shared.db.engine import make_engine

    given: dict[str, object] = {}
    for item in parameters:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--param")
        given[name] = value == "true" if value in ("true", "false") else value
    # the API's own rules: unknown parameters refused, dates ISO or ДД.ММ.ГГГГ
    errors, values = request_errors({"kind": kind, "parameters": given})
    if errors:
        problems = "; ".join(f"{name}: {', '.join(map(str, messages))}"
                             for name, messages in errors.get("parameters", errors).items())
        raise click.BadParameter(problems, param_hint="--param")
    moment = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if moment.tzinfo is None:
        raise click.BadParameter("--at needs a UTC offset, e.g. 2026-11-09T00:00:00+06:00")
    engine = make_engine(_settings().database_url_for("checker"))
    try:
        with engine.connect() as connection:
            report = make_report(connection, school_id, kind, values, scope=None, now=moment)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    if as_json:
        click.echo(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(report_as_text(report.as_dict()))


main.add_command(checker)


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--service", type=click.Choice(SERVICES), multiple=True,
              help="Only these services' tables (default: all).")
def db_upgrade(service: tuple[str, ...]) -> None:
    """Apply the migrations of each service to its database."""
    settings = _settings()
    from shared.db.migrations import upgrade

    for name in service or SERVICES:
        upgrade(settings.database_url_for(name), name, SERVICES)
        click.echo(f"{name}: up to date")


@main.group()
def users() -> None:
    """Staff accounts of the web console (/console)."""


ROLES = ["admin", "director", "deputy", "class_teacher", "teacher", "auditor"]


def _setup_link(code: str) -> str:
    settings = _settings()
    return f"http://{settings.http_host}:{settings.http_port}/console/set-password?code={code}"


def _user_action(login: str, action: str) -> None:
    """invite / reset / disable one account, recorded in the access log."""
    from datetime import UTC, datetime

    from services.gateway.adapters import audit
    from services.gateway.adapters import users as accounts

    engine = _gateway_engine(_settings())
    try:
        with engine.begin() as connection:
            user = accounts.find_user(connection, login)
            if user is None:
                raise click.ClickException(f"no staff account {login}")
            code = None
            if action == "invite":
                code = accounts.issue_setup_code(connection, user.id)
            elif action == "reset":
                code = accounts.reset_password(connection, user.id)
            else:
                revoked = accounts.disable(connection, user.id)
                click.echo(f"disabled {login}: sessions ended, {revoked} API token(s) revoked")
            audit.record(connection, at=datetime.now(UTC), action=f"user.{action}",
                         resource=f"cli kozomol users {action}",
                         target={"user_id": user.id, "role": user.role.value,
                                 "school_id": user.school_id or "*"}, school_id=user.school_id)
    finally:
        engine.dispose()
    if code is not None:
        _print_code(code)


def _print_code(code: str) -> None:
    """The one-time code goes to the terminal only (never to a log)."""
    click.echo(_setup_link(code))
    click.echo(f"one-time code (valid 7 days): {code}", err=True)


@users.command("create")
@click.option("--login", required=True)
@click.option("--name", "full_name", required=True, help="Full name, as pages show it.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--school", "school_id", default=None, help="School id (every role but admin).")
@click.option("--teacher", "teacher_id", default=None,
              help="For teachers and class teachers: the teacher they are.")
@click.option("--language", default="ru", type=click.Choice(["ru", "ky"]),
              help="The console's language for this person (Russian by default, or Kyrgyz).")
def users_create(login: str, full_name: str, role: str, school_id: str | None,
                 teacher_id: str | None, language: str) -> None:
    """Create an account and print its one-time link to set the password."""
    from datetime import UTC, datetime

    from services.gateway.adapters import audit
    from services.gateway.adapters import users as accounts
    from services.gateway.domain.access import Role

    engine = _gateway_engine(_settings())
    try:
        with engine.begin() as connection:
            user, code = accounts.create_user(connection, login, full_name, Role(role),
                                              school_id=school_id, teacher_id=teacher_id,
                                              language=language)
            audit.record(connection, at=datetime.now(UTC), action="user.created",
                         resource="cli kozomol users create",
                         target={"user_id": user.id, "role": role,
                                 "school_id": school_id or "*"}, school_id=school_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    _print_code(code)


@users.command("language")
@click.argument("login")
@click.argument("language", type=click.Choice(["ru", "ky"]))
def users_language(login: str, language: str) -> None:
    """The console's language for an account (people can also change it on their profile)."""
    from services.gateway.adapters import users as accounts

    engine = _gateway_engine(_settings())
    try:
        with engine.begin() as connection:
            user = accounts.find_user(connection, login)
            if user is None:
                raise click.ClickException(f"no staff account {login}")
            accounts.set_language(connection, user.id, language)
    finally:
        engine.dispose()
    click.echo(f"{login}: the console speaks {'Kyrgyz' if language == 'ky' else 'Russian'}")


@users.command("invite")
@click.argument("login")
def users_invite(login: str) -> None:
    """A new one-time link for an account (the earlier one stops working)."""
    _user_action(login, "invite")


@users.command("reset")
@click.argument("login")
def users_reset(login: str) -> None:
    """Clear the password, end the sessions, print a one-time link to set a new one."""
    _user_action(login, "reset")


@users.command("disable")
@click.argument("login")
def users_disable(login: str) -> None:
    """Clause 3.2: end all the account's sessions and revoke its API tokens at once."""
    _user_action(login, "disable")


@users.command("list")
@click.option("--school", "school_id", default=None)
def users_list(school_id: str | None) -> None:
    """Accounts (never their passwords or codes)."""
    from tabulate import tabulate

    from services.gateway.adapters import users as accounts

    engine = _gateway_engine(_settings())
    try:
        with engine.connect() as connection:
            rows = accounts.list_users(connection, school_id)
    finally:
        engine.dispose()
    click.echo(tabulate(
        [(row["login"], row["full_name"], row["role"], row["school_id"] or "*",
          row["teacher_id"] or "", row["language"], "yes" if row["has_password"] else "no",
          "disabled" if row["disabled_at"] else "active") for row in rows],
        headers=["login", "name", "role", "school", "teacher", "language", "password",
                 "state"]))


@main.group()
def tokens() -> None:
    """API tokens for administrators."""


def _gateway_engine(settings: Settings) -> Engine:
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade

    url = settings.database_url_for("gateway")
    if settings.embedded_broker:
        upgrade(url, "gateway", SERVICES)  # the embedded default migrates itself
    return make_engine(url)


@tokens.command("create")
@click.option("--role", required=True,
              type=click.Choice(["admin", "director", "deputy", "class_teacher", "teacher",
                                 "auditor"]))
@click.option("--school", "school_id", default=None, help="School id (every role but admin).")
@click.option("--label", default=None, help="Who or what the token is for.")
@click.option("--teacher", "teacher_id", default=None,
              help="For teacher tokens: the teacher's id (they see their own findings).")
@click.option("--expires-in-days", "lifetime_days", type=int, default=None,
              help="How long the token is valid (default KOZOMOL_TOKEN_LIFETIME_DAYS, 90).")
@click.option("--user", "user_login", default=None,
              help="The staff account (login) it is issued to: disabling it revokes the token.")
def tokens_create(role: str, school_id: str | None, label: str | None,
                  teacher_id: str | None, lifetime_days: int | None,
                  user_login: str | None = None) -> None:
    """Print a new token; it is stored hashed and cannot be shown again."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import DBAPIError

    from services.gateway.adapters import audit
    from services.gateway.adapters.tokens import create_token
    from services.gateway.domain.access import Role
    from services.gateway.queries.names import token_subject_problems

    settings = _settings()
    lifetime = settings.token_lifetime_days if lifetime_days is None else lifetime_days
    engine = _gateway_engine(settings)
    try:
        with engine.begin() as connection:
            refusals, warnings = token_subject_problems(connection, school_id, teacher_id)
            if refusals:
                raise click.ClickException("; ".join(refusals))
            for warning in warnings:
                click.echo(f"предупреждение: {warning}", err=True)
            user_id = None
            if user_login is not None:
                from services.gateway.adapters.users import find_user

                owner = find_user(connection, user_login)
                if owner is None:
                    raise click.ClickException(f"no staff account {user_login}")
                user_id = owner.id
            issued = create_token(connection, Role(role), school_id, label, teacher_id,
                                  lifetime_days=lifetime, user_id=user_id)
            audit.record(connection, at=datetime.now(UTC), action="token.issued",
                         resource="cli kozomol tokens create",
                         target={"token_id": issued.id, "role": role,
                                 "school_id": school_id or "*"}, school_id=school_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except DBAPIError as exc:
        raise click.ClickException(
            f"cannot store the token ({exc.__class__.__name__}); "
            "is the database reachable and migrated (`kozomol db upgrade`)?") from exc
    finally:
        engine.dispose()
    click.echo(issued.token)
    click.echo(f"token id {issued.id}, role {role}, school {school_id or 'all'}, "
               f"expires {issued.expires_at:%Y-%m-%d}", err=True)


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    from datetime import UTC, datetime

    from services.gateway.adapters import audit
    from services.gateway.adapters.tokens import revoke
    from services.gateway.queries.tokens import find

    engine = _gateway_engine(_settings())
    with engine.begin() as connection:
        found = find(connection, token_id)
        if found is None:
            raise click.ClickException(f"no token {token_id}")
        revoke(connection, token_id)
        audit.record(connection, at=datetime.now(UTC), action="token.revoked",
                     resource="cli kozomol tokens revoke",
                     target={"token_id": token_id, "role": found["role"],
                             "school_id": found["school_id"] or "*"},
                     school_id=found["school_id"])
    engine.dispose()
    click.echo(f"revoked {token_id}")


@main.group()
def topology() -> None:
    """The RabbitMQ topology."""


@topology.command("export")
@click.option("--vhost", default="/")
@click.option("--queue-type", type=click.Choice(["quorum", "classic"]), default="quorum")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def topology_export(vhost: str, queue_type: str, output: Path | None) -> None:
    """Write the topology as a RabbitMQ definitions file (for rabbitmqctl import_definitions)."""
    from shared.messaging.topology import Topology

    settings = _settings()
    document = Topology(settings.namespace, queue_type, settings.delivery_limit).definitions(vhost)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


@main.group()
def schemas() -> None:
    """JSON Schema of the webhook contract and of the services' own messages."""


@schemas.command("export")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("docs/schemas"))
def schemas_export(output_dir: Path) -> None:
    """Write one JSON Schema file per event type (the services' own under internal/)."""
    from shared.events.jsonschema import event_json_schema, message_json_schema
    from shared.events.messages import MESSAGES
    from shared.events.schemas import DATA_SCHEMAS

    internal_dir = output_dir / "internal"
    internal_dir.mkdir(parents=True, exist_ok=True)
    for event_type in sorted(DATA_SCHEMAS):
        path = output_dir / f"{event_type}.json"
        path.write_text(json.dumps(event_json_schema(event_type), indent=2, ensure_ascii=False)
                        + "\n")
    for message_type in sorted(MESSAGES):
        path = internal_dir / f"{message_type}.json"
        path.write_text(json.dumps(message_json_schema(message_type), indent=2,
                                   ensure_ascii=False) + "\n")
    click.echo(f"{len(DATA_SCHEMAS)} schemas written to {output_dir}, "
               f"{len(MESSAGES)} to {internal_dir}")


@main.group()
def webhook() -> None:
    """Send signed webhooks to a gateway, as Kundoluk would."""


@webhook.command("send")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", default=None, help="Gateway URL (default: this machine's serve).")
@click.option("--batch/--single", default=True, help="One batch per file, or one POST per event.")
def webhook_send(files: tuple[Path, ...], url: str | None, batch: bool) -> None:
    """Sign and POST events from JSON files (an event, a list, or {"events": [...]})."""
    import httpx
    import orjson

    from kozomol.webhook_client import post_events

    settings = _settings()
    if not settings.webhook_secrets:
        try:
            settings = with_embedded_secret(settings)  # the secret `kozomol serve` generated
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from exc
    url = url or f"http://{settings.http_host}:{settings.http_port}/webhooks/kundoluk"
    failed = False
    with httpx.Client(timeout=30) as client:
        for path in files:
            document = orjson.loads(path.read_bytes())
            events = document.get("events", [document]) if isinstance(document, dict) \
                else list(document)
            groups = [events] if batch else [[event] for event in events]
            for group in groups:
                response = post_events(client, url, settings.webhook_secrets, group)
                click.echo(f"{path.name}: {response.status_code} {response.text.strip()}")
                failed |= response.status_code >= 400
    if failed:
        sys.exit(1)


@main.command()
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Results folder (default: ./demo-results/<timestamp>).")
@click.option("--seed", type=int, default=48, show_default=True)
@click.option("--parallels", type=int, default=2, show_default=True,
              help="Classes per grade of the simulated school.")
@click.option("--grades", default="1-11", show_default=True)
@click.option("--serve", is_flag=True,
              help="Keep every service running afterwards (the console too) until Ctrl-C.")
@click.option("--port", type=int, default=None,
              help="With --serve: the HTTP port (default: KOZOMOL_HTTP_PORT, 8080).")
def demo(output: Path | None, seed: int, parallels: int, grades: str, serve: bool,
         port: int | None) -> None:
    """Simulate a school's first quarter, send it through every service, print a summary
    and the console's address with a login it made (--serve: then keep it running)."""
    from datetime import datetime

    from kozomol.demo import print_summary, run_demo, serve_until_stopped
    from kozomol.simulator.run import SimulationSpec
    from shared.logs import configure_logging

    settings = _settings()
    # The summary is the demo's output; routine INFO lines would bury it.
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level)
    low, _, high = grades.partition("-")
    spec = SimulationSpec(seed=seed, parallels=parallels,
                          grades=tuple(range(int(low), int(high or low) + 1)))
    folder = (output or Path("demo-results") / datetime.now().strftime("%Y%m%d-%H%M%S")).resolve()
    if serve:
        run_demo(settings, folder, spec, serve=serve_until_stopped,
                 port=settings.http_port if port is None else port)
    else:
        print_summary(run_demo(settings, folder, spec))


@main.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same events.")
@click.option("--schools", type=int, default=1, show_default=True)
@click.option("--parallels", type=int, default=2, show_default=True,
              help="Classes per grade (5a, 5b, ...).")
@click.option("--grades", default="1-11", show_default=True, help="e.g. 1-11 or 5-9.")
@click.option("--terms", default="1", show_default=True, help="Quarters: 1, 1-2, 1-4.")
@click.option("--faults", "fault_mode", type=click.Choice(["default", "none"]), default="default",
              show_default=True, help="Plant faults at the default rates, or none at all.")
@click.option("--fault-scale", type=float, default=1.0, show_default=True,
              help="Multiply every default fault rate.")
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the ground truth (one planted fault per row) as CSV.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the events as JSON Lines (.jsonl or .jsonl.gz) instead of sending.")
@click.option("--url", default=None, help="Send to this gateway (…/webhooks/kundoluk).")
@click.option("--batch", type=int, default=100, show_default=True,
              help="Events per webhook; 1 sends them singly.")
@click.option("--shuffle-window", type=int, default=0, show_default=True,
              help="Deliver out of order within this many events (0: in time order).")
@click.option("--duplicates", type=float, default=0.0, show_default=True,
              help="Share of events delivered a second time.")
@click.option("--language", type=click.Choice(["ru", "ky"]), default="ru", show_default=True,
              help="The schools' language of instruction.")
def simulate(seed: int, schools: int, parallels: int, grades: str, terms: str, fault_mode: str,
             fault_scale: float, truth: Path | None, output: Path | None, url: str | None,
             batch: int, shuffle_window: int, duplicates: float, language: str) -> None:
    """Generate schools and their teachers' activity, as Kundoluk would send it."""
    from kozomol.simulator.delivery import Progress, arrange, send, write_jsonl
    from kozomol.simulator.faults import FaultRates, PlantedFault, write_ground_truth
    from kozomol.simulator.run import SimulationSpec, collect_faults, parse_terms, school_events

    if (output is None) == (url is None):
        raise click.UsageError("give exactly one of --output FILE or --url URL")
    try:
        low, _, high = grades.partition("-")
        spec = SimulationSpec(
            seed=seed, schools=schools, parallels=parallels,
            grades=tuple(range(int(low), int(high or low) + 1)), terms=parse_terms(terms),
            rates=FaultRates.none() if fault_mode == "none"
            else FaultRates.default(fault_scale), language=language)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    planted: list[PlantedFault] = []
    events = arrange(school_events(spec, collect_faults(planted)), seed=seed,
                     shuffle_window=shuffle_window, duplicate_share=duplicates)
    progress = Progress("events")
    if output is not None:
        count = write_jsonl(events, output, on_progress=progress.advance)
        progress.count = count
        progress.close()
        click.echo(f"{count:,} events written to {output}", err=True)
    else:
        settings = _settings()
        secret_list = settings.webhook_secrets
        if not secret_list:
            try:
                secret_list = with_embedded_secret(settings).webhook_secrets
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from exc
        report = send(events, url or "", secret_list, batch_size=batch,
                      on_progress=progress.advance)
        progress.close()
        click.echo(f"sent {report.sent:,}: accepted {report.accepted:,}, duplicates "
                   f"{report.duplicates:,}, rejected {report.rejected:,}, "
                   f"{report.requests:,} requests, {report.retries} retries", err=True)
        if report.failures:
            raise click.ClickException(f"{len(report.failures)} deliveries failed: "
                                       f"{report.failures[0]}")
    if truth is not None:
        with truth.open("w", newline="", encoding="utf-8") as handle:
            rows = write_ground_truth(planted, handle)
        click.echo(f"{rows:,} planted faults written to {truth}", err=True)
