"""``kozomol notifier …``: run the notifier service, set a school's send times, read the log.

Run bare it is the service (consumer, planner, sender). The subcommands work
on the notifier's own database directly.
"""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import Engine

from kozomol.cli_common import cli_settings, consumer_command
from shared.settings import SERVICES, Settings


def _settings() -> Settings:
    return cli_settings()


def _engine(settings: Settings) -> Engine:
    from shared.db.engine import make_engine
    from shared.db.migrations import upgrade

    url = settings.database_url_for("notifier")
    if settings.embedded_broker:
        upgrade(url, "notifier", SERVICES)
    return make_engine(url)


@click.group(invoke_without_command=True)
@click.pass_context
def notifier(context: click.Context) -> None:
    """Run the notifier service alone (reminders, digests, parents' notices)."""
    if context.invoked_subcommand is None:
        context.invoke(consumer_command("notifier"))


@notifier.command("settings")
@click.option("--school", "school_id", required=True)
@click.option("--reminder-time", default=None, help="School-local time, e.g. 15:30.")
@click.option("--digest-time", default=None, help="School-local time, e.g. 17:00.")
@click.option("--parents/--no-parents", "parents", default=None,
              help="Whether the school sends parents' notices (to parents who opted in).")
def notifier_settings(school_id: str, reminder_time: str | None, digest_time: str | None,
                      parents: bool | None) -> None:
    """Set a school's own send times or turn its parents' notices on or off."""
    from services.notifier.adapters import settings_store

    engine = _engine(_settings())
    try:
        with engine.begin() as connection:
            settings_store.change(connection, school_id, datetime.now().astimezone(),
                                  reminder_time=reminder_time, digest_time=digest_time,
                                  parents_enabled=parents)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    finally:
        engine.dispose()
    click.echo(f"{school_id}: settings saved")


@notifier.command("log")
@click.option("--school", "school_id", default=None)
@click.option("--status", default=None,
              type=click.Choice(["queued", "sending", "failed", "sent", "given_up",
                                 "cancelled"]))
@click.option("--history", "message_id", default=None, help="Every step of one message.")
def notifier_log(school_id: str | None, status: str | None, message_id: str | None) -> None:
    """The delivery log: messages with their status, or one message's steps."""
    from tabulate import tabulate

    from services.notifier.adapters import message_store

    engine = _engine(_settings())
    try:
        with engine.connect() as connection:
            if message_id:
                rows = [[r["at"], r["status"], r["attempt"], r["detail"] or ""]
                        for r in message_store.history(connection, message_id)]
                click.echo(tabulate(rows, headers=["at", "status", "attempt", "detail"]))
                return
            rows = [[r["message_id"], r["channel"], r["address"], r["status"], r["attempts"],
                     r["last_error"] or ""]
                    for r in message_store.listing(connection, school_id, status=status)]
        click.echo(tabulate(rows, headers=["message", "channel", "address", "status",
                                           "attempts", "last error"]))
    finally:
        engine.dispose()
