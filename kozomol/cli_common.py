"""What every ``kozomol`` command group shares: settings, logging, running one consumer.

``kozomol/cli.py`` (the ``kozomol`` group) and the service groups it adds
(``backup_cli.py``, ``notifier_cli.py``) import this; none of them imports
another, so there is no import cycle between them.
"""

from __future__ import annotations

import importlib
import signal
from types import FrameType

import click

from shared.settings import Settings, SettingsError, load_settings


def cli_settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def cli_logging(settings: Settings) -> None:
    from shared.logs import configure_logging

    configure_logging(settings.log_level)


def consumer_command(name: str) -> click.Command:
    @click.command(name=name, help=f"Run the {name} service alone (consumes its queue).")
    def command() -> None:
        settings = cli_settings()
        if settings.embedded_broker:
            raise click.ClickException(
                "the in-process broker lives inside one process: use `kozomol serve`, "
                "or set KOZOMOL_BROKER_URL to a RabbitMQ URL")
        cli_logging(settings)
        module = importlib.import_module(f"services.{name}.main")
        service = module.bootstrap(settings)
        if settings.metrics_port:
            from prometheus_client import start_http_server

            # The gateway serves /metrics itself; a consumer has no HTTP of its own.
            start_http_server(settings.metrics_port, addr=settings.http_host)

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            service.consumer.should_stop = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        service.run_forever()
        service.stop()

    return command
