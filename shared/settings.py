"""Settings of every Kozomol service, read from ``KOZOMOL_*`` environment variables.

One place defines them all; ``docs/configuration.md`` documents each one (a test
keeps the two in step). Nothing here opens a connection: wiring happens in each
service's ``bootstrap``.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from environs import Env, EnvError
from limits import parse_many

SERVICES = ("gateway", "checker", "printer", "backup", "notifier")
QUEUE_TYPES = ("auto", "quorum", "classic")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str  # empty: the embedded default (see database_url_for)
    service_database_urls: Mapping[str, str]
    broker_url: str
    webhook_secrets: tuple[str, ...]
    namespace: str = "kozomol"
    queue_type: str = "auto"
    delivery_limit: int = 5
    prefetch: int = 200
    consumer_batch: int = 100
    broker_connect_timeout: float = 2.0
    publish_timeout: float = 5.0
    signature_tolerance: int = 300
    max_body_bytes: int = 1024 * 1024
    max_batch_events: int = 1000
    webhook_rate_limit: str = ""  # e.g. "2000/second"; empty: no limit here (limit at the proxy)
    rate_limit_storage_url: str = "memory://"
    #: the administrators' API: per token, per address, and failed authentications per address
    api_rate_limit: str = "1200/minute"
    api_address_rate_limit: str = "3000/minute"
    auth_failure_limit: str = "30/minute"
    token_lifetime_days: int = 90  # a new token's default expiry; settable per token
    audit_retention_days: int = 1095  # how long the personal-data access log is kept
    #: the web console's session cookie: Secure off only for the plain-http embedded default
    console_secure_cookie: bool = False
    console_idle_minutes: int = 30
    console_absolute_hours: int = 12
    #: failed logins allowed per account and per address within 15 minutes
    console_account_failures: int = 5
    console_address_failures: int = 20
    outbox_relay_interval: float = 1.0
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    gateway_workers: int = 2
    metrics_port: int = 0  # consumer services serve /metrics here when set
    sweep_interval: float = 60.0
    full_sweep_interval: float = 3600.0
    settle_lag: float = 600.0  # an event arriving this long after its entry is catching up
    settle_window: float = 120.0  # a school is judged this long after its last such event
    log_level: str = "INFO"
    storage_url: str = ""  # empty: file://<data_dir>/files
    font_dir: Path = Path("/usr/share/fonts/truetype/dejavu")  # the printer's DejaVu fonts
    backup_key: str = ""  # base64 of 32 bytes; empty: generated in the data dir (embedded only)
    backup_storage_url: str = ""  # empty: the files store (backups/ prefix)
    backup_schedule: str = "0 2 * * *"
    backup_half_year_schedule: str = "0 3 1 1,6 *"
    backup_timezone: str = "Asia/Bishkek"
    backup_keep_daily: int = 7
    backup_keep_monthly: int = 12
    backup_check_interval: float = 60.0
    # the notifier (docs/notifier.md)
    notifier_reminder_time: str = "16:00"   # school-local; a school may set its own
    notifier_digest_time: str = "17:00"
    notifier_parents_enabled: bool = True   # a school may turn parents' notices off
    notifier_settling_minutes: int = 60
    notifier_plan_interval: float = 60.0
    notifier_send_interval: float = 2.0
    notifier_send_lease: float = 120.0
    notifier_retry_base: float = 60.0
    notifier_max_attempts: int = 6
    notifier_smtp_host: str = ""            # empty: no e-mail
    notifier_smtp_port: int = 25
    notifier_smtp_user: str = ""
    notifier_smtp_password: str = ""
    notifier_smtp_security: str = "starttls"  # none | starttls | ssl
    notifier_mail_from: str = "kozomol@localhost"
    notifier_telegram_bot_token: str = ""   # empty: no Telegram
    notifier_telegram_api_url: str = "https://api.telegram.org/bot"
    notifier_webhook_url: str = ""          # empty: no outgoing webhook
    notifier_webhook_secret: str = ""
    notifier_console_url: str = "http://127.0.0.1:8080"
    backup_scope: str = "schools"  # scheduled backups: one per school, or "all" in one

    def __post_init__(self) -> None:
        # Paths are resolved once, here, against the working directory the settings
        # were made in: every later use (file URIs, SQLite URLs, a service started
        # from another folder) then sees the same absolute place.
        for name in ("data_dir", "font_dir"):
            object.__setattr__(self, name, Path(getattr(self, name)).expanduser().resolve())
        for name in ("storage_url", "backup_storage_url"):
            object.__setattr__(self, name, absolute_storage_url(getattr(self, name)))

    @property
    def backups_url(self) -> str:
        """Where backup archives are kept; the files store by default."""
        return self.backup_storage_url or self.files_url

    @property
    def embedded_broker(self) -> bool:
        return self.broker_url.startswith("memory://")

    @property
    def files_url(self) -> str:
        """Where files are kept (shared.storage.open_store); a folder in the data dir by default."""
        return self.storage_url or (self.data_dir / "files").as_uri()

    def database_url_for(self, service: str) -> str:
        """Each service owns its tables; production may give each its own database.

        Without any URL (the embedded default) each service gets a SQLite file of
        its own, so that one service's writes never wait for another's (SQLite
        has one writer per file).
        """
        return (self.service_database_urls.get(service) or self.database_url
                or _sqlite_url(self.data_dir, service))


def absolute_storage_url(value: str) -> str:
    """A storage URL with any folder in it made absolute.

    ``KOZOMOL_STORAGE_URL`` may be a ``file://`` URL, an ``s3://`` URL, or simply a
    folder (``./files``, ``/srv/kozomol/files``); a folder or a relative
    ``file:`` path is resolved against the current working directory.
    """
    if not value:
        return value
    parsed = urlparse(value)
    if parsed.scheme == "file":
        # file:///srv/x is absolute; file://x/y and file:x/y are taken as the folder x/y.
        host = "" if parsed.netloc in ("", "localhost") else parsed.netloc
        return Path(unquote(host + parsed.path)).expanduser().resolve().as_uri()
    if not parsed.scheme or len(parsed.scheme) == 1:  # a bare folder (or a drive letter)
        return Path(value).expanduser().resolve().as_uri()
    return value


def load_settings() -> Settings:
    """Read the settings from the process environment; errors name the variable."""
    env = Env(eager=False)
    try:
        with env.prefixed("KOZOMOL_"):
            data_dir = Path(env.str("DATA_DIR", "./var"))
            database_url = env.str("DATABASE_URL", "")
            service_urls = {
                name: url
                for name in SERVICES
                if (url := env.str(f"{name.upper()}_DATABASE_URL", ""))
            }
            broker_url = env.str("BROKER_URL", "memory://")
            raw_secrets = env.str("WEBHOOK_SECRETS", "")
            settings = Settings(
                data_dir=data_dir,
                database_url=database_url,
                service_database_urls=service_urls,
                broker_url=broker_url,
                webhook_secrets=tuple(raw_secrets.replace(",", " ").split()),
                namespace=env.str("NAMESPACE", "kozomol"),
                queue_type=env.str("QUEUE_TYPE", "auto"),
                delivery_limit=env.int("DELIVERY_LIMIT", 5),
                prefetch=env.int("PREFETCH", 200),
                consumer_batch=env.int("CONSUMER_BATCH", 100),
                broker_connect_timeout=env.float("BROKER_CONNECT_TIMEOUT", 2.0),
                publish_timeout=env.float("PUBLISH_TIMEOUT", 5.0),
                signature_tolerance=env.int("SIGNATURE_TOLERANCE", 300),
                max_body_bytes=env.int("MAX_BODY_BYTES", 1024 * 1024),
                max_batch_events=env.int("MAX_BATCH_EVENTS", 1000),
                webhook_rate_limit=env.str("WEBHOOK_RATE_LIMIT", ""),
                rate_limit_storage_url=env.str("RATE_LIMIT_STORAGE_URL", "memory://"),
                api_rate_limit=env.str("API_RATE_LIMIT", "1200/minute"),
                api_address_rate_limit=env.str("API_ADDRESS_RATE_LIMIT", "3000/minute"),
                auth_failure_limit=env.str("AUTH_FAILURE_LIMIT", "30/minute"),
                token_lifetime_days=env.int("TOKEN_LIFETIME_DAYS", 90),
                audit_retention_days=env.int("AUDIT_RETENTION_DAYS", 1095),
                console_secure_cookie=env.bool("CONSOLE_SECURE_COOKIE", False),
                console_idle_minutes=env.int("CONSOLE_IDLE_MINUTES", 30),
                console_absolute_hours=env.int("CONSOLE_ABSOLUTE_HOURS", 12),
                console_account_failures=env.int("CONSOLE_ACCOUNT_FAILURES", 5),
                console_address_failures=env.int("CONSOLE_ADDRESS_FAILURES", 20),
                outbox_relay_interval=env.float("OUTBOX_RELAY_INTERVAL", 1.0),
                http_host=env.str("HTTP_HOST", "127.0.0.1"),
                http_port=env.int("HTTP_PORT", 8080),
                gateway_workers=env.int("GATEWAY_WORKERS", 2),
                metrics_port=env.int("METRICS_PORT", 0),
                sweep_interval=env.float("SWEEP_INTERVAL", 60.0),
                full_sweep_interval=env.float("FULL_SWEEP_INTERVAL", 3600.0),
                settle_lag=env.float("SETTLE_LAG", 600.0),
                settle_window=env.float("SETTLE_WINDOW", 120.0),
                log_level=env.str("LOG_LEVEL", "INFO").upper(),
                storage_url=env.str("STORAGE_URL", ""),
                font_dir=Path(env.str("FONT_DIR", "/usr/share/fonts/truetype/dejavu")),
                backup_key=env.str("BACKUP_KEY", ""),
                backup_storage_url=env.str("BACKUP_STORAGE_URL", ""),
                backup_schedule=env.str("BACKUP_SCHEDULE", "0 2 * * *"),
                backup_half_year_schedule=env.str("BACKUP_HALF_YEAR_SCHEDULE", "0 3 1 1,6 *"),
                backup_timezone=env.str("BACKUP_TIMEZONE", "Asia/Bishkek"),
                backup_keep_daily=env.int("BACKUP_KEEP_DAILY", 7),
                backup_keep_monthly=env.int("BACKUP_KEEP_MONTHLY", 12),
                backup_check_interval=env.float("BACKUP_CHECK_INTERVAL", 60.0),
                **_notifier_settings(env),
                backup_scope=env.str("BACKUP_SCOPE", "schools"),
            )
        env.seal()
    except EnvError as exc:
        raise SettingsError(str(exc)) from exc
    _validate(settings)
    return settings


def _notifier_settings(env: Env) -> dict[str, Any]:
    return {
        "notifier_reminder_time": env.str("NOTIFIER_REMINDER_TIME", "16:00"),
        "notifier_digest_time": env.str("NOTIFIER_DIGEST_TIME", "17:00"),
        "notifier_parents_enabled": env.bool("NOTIFIER_PARENTS_ENABLED", True),
        "notifier_settling_minutes": env.int("NOTIFIER_SETTLING_MINUTES", 60),
        "notifier_plan_interval": env.float("NOTIFIER_PLAN_INTERVAL", 60.0),
        "notifier_send_interval": env.float("NOTIFIER_SEND_INTERVAL", 2.0),
        "notifier_send_lease": env.float("NOTIFIER_SEND_LEASE", 120.0),
        "notifier_retry_base": env.float("NOTIFIER_RETRY_BASE", 60.0),
        "notifier_max_attempts": env.int("NOTIFIER_MAX_ATTEMPTS", 6),
        "notifier_smtp_host": env.str("NOTIFIER_SMTP_HOST", ""),
        "notifier_smtp_port": env.int("NOTIFIER_SMTP_PORT", 25),
        "notifier_smtp_user": env.str("NOTIFIER_SMTP_USER", ""),
        "notifier_smtp_password": env.str("NOTIFIER_SMTP_PASSWORD", ""),
        "notifier_smtp_security": env.str("NOTIFIER_SMTP_SECURITY", "starttls"),
        "notifier_mail_from": env.str("NOTIFIER_MAIL_FROM", "kozomol@localhost"),
        "notifier_telegram_bot_token": env.str("NOTIFIER_TELEGRAM_BOT_TOKEN", ""),
        "notifier_telegram_api_url": env.str("NOTIFIER_TELEGRAM_API_URL",
                                             "https://api.telegram.org/bot"),
        "notifier_webhook_url": env.str("NOTIFIER_WEBHOOK_URL", ""),
        "notifier_webhook_secret": env.str("NOTIFIER_WEBHOOK_SECRET", ""),
        "notifier_console_url": env.str("NOTIFIER_CONSOLE_URL", "http://127.0.0.1:8080"),
    }


def _validate_notifier(settings: Settings) -> None:
    for name, value in (("NOTIFIER_REMINDER_TIME", settings.notifier_reminder_time),
                        ("NOTIFIER_DIGEST_TIME", settings.notifier_digest_time)):
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24
                and int(minutes) < 60 and len(minutes) == 2):
            raise SettingsError(f"KOZOMOL_{name} must be a time of day like 16:00")
    if settings.notifier_smtp_security not in ("none", "starttls", "ssl"):
        raise SettingsError("KOZOMOL_NOTIFIER_SMTP_SECURITY must be none, starttls or ssl")
    if settings.notifier_max_attempts < 1:
        raise SettingsError("KOZOMOL_NOTIFIER_MAX_ATTEMPTS must be at least 1")
    if settings.notifier_webhook_url and not settings.notifier_webhook_secret.startswith(
            "whsec_"):
        raise SettingsError("KOZOMOL_NOTIFIER_WEBHOOK_SECRET (whsec_…) is required "
                            "with KOZOMOL_NOTIFIER_WEBHOOK_URL")


def _sqlite_url(data_dir: Path, name: str) -> str:
    return f"sqlite:///{data_dir / f'{name}.sqlite3'}"


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _validate(settings: Settings) -> None:
    if settings.log_level not in LOG_LEVELS:
        raise SettingsError(f"KOZOMOL_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    for name, limit in (("WEBHOOK_RATE_LIMIT", settings.webhook_rate_limit),
                        ("API_RATE_LIMIT", settings.api_rate_limit),
                        ("API_ADDRESS_RATE_LIMIT", settings.api_address_rate_limit),
                        ("AUTH_FAILURE_LIMIT", settings.auth_failure_limit)):
        if limit:
            try:
                parse_many(limit)
            except ValueError as exc:
                raise SettingsError(
                    f"KOZOMOL_{name} must look like 2000/second or 100 per minute") from exc
    if settings.token_lifetime_days < 1 or settings.audit_retention_days < 1:
        raise SettingsError("KOZOMOL_TOKEN_LIFETIME_DAYS and KOZOMOL_AUDIT_RETENTION_DAYS "
                            "must be at least 1")
    _validate_backup(settings)
    _validate_notifier(settings)
    if settings.queue_type not in QUEUE_TYPES:
        raise SettingsError(f"KOZOMOL_QUEUE_TYPE must be one of {', '.join(QUEUE_TYPES)}")
    if settings.delivery_limit < 1:
        raise SettingsError("KOZOMOL_DELIVERY_LIMIT must be at least 1")
    if settings.prefetch < settings.consumer_batch:
        raise SettingsError("KOZOMOL_PREFETCH must be at least KOZOMOL_CONSUMER_BATCH")
    for secret in settings.webhook_secrets:
        if not secret.startswith("whsec_"):
            raise SettingsError("each KOZOMOL_WEBHOOK_SECRETS entry must start with whsec_")
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError as exc:
            raise SettingsError("a KOZOMOL_WEBHOOK_SECRETS entry is not base64") from exc
        if len(key) < 24:
            raise SettingsError("each webhook secret needs at least 24 random bytes")


def _validate_backup(settings: Settings) -> None:
    for name, value in (("BACKUP_SCHEDULE", settings.backup_schedule),
                        ("BACKUP_HALF_YEAR_SCHEDULE", settings.backup_half_year_schedule)):
        if value and not croniter.is_valid(value):
            raise SettingsError(f"KOZOMOL_{name} must be a cron expression like 0 2 * * *")
    try:
        ZoneInfo(settings.backup_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError("KOZOMOL_BACKUP_TIMEZONE must be an IANA time zone") from exc
    if settings.backup_scope not in ("schools", "all"):
        raise SettingsError("KOZOMOL_BACKUP_SCOPE must be schools or all")
    if settings.backup_keep_daily < 1 or settings.backup_keep_monthly < 0:
        raise SettingsError("KOZOMOL_BACKUP_KEEP_DAILY must be at least 1 and "
                            "KOZOMOL_BACKUP_KEEP_MONTHLY at least 0")
    if settings.backup_key:
        try:
            key = base64.b64decode(settings.backup_key, validate=True)
        except ValueError as exc:
            raise SettingsError("KOZOMOL_BACKUP_KEY is not base64") from exc
        if len(key) != 32:
            raise SettingsError("KOZOMOL_BACKUP_KEY must be base64 of exactly 32 bytes")


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def with_embedded_secret(settings: Settings) -> Settings:
    """The embedded default keeps a generated webhook secret in the data folder.

    Production must configure ``KOZOMOL_WEBHOOK_SECRETS`` explicitly; on one
    school's machine the first start creates a secret so the demo works at once.
    """
    if settings.webhook_secrets:
        return settings
    if not settings.embedded_broker:
        raise SettingsError("KOZOMOL_WEBHOOK_SECRETS is required when a real broker is used")
    path = settings.data_dir / "webhook-secret"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_webhook_secret() + "\n")
    secret = path.read_text().strip()
    return replace(settings, webhook_secrets=(secret,))
