"""Delivery: e-mail and Telegram through Apprise, the outgoing webhook signed per
Standard Webhooks (the ``standardwebhooks`` library, the scheme the intake verifies).

Each ``send`` either returns (the server accepted the message) or raises
``DeliveryFailed`` with the reason the log shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import apprise
import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from services.notifier.adapters.message_store import Outgoing
from services.notifier.domain.model import Recipient
from shared.settings import Settings

EMAIL, TELEGRAM, WEBHOOK = "email", "telegram", "webhook"
#: Apprise's mail "mode" for each KOZOMOL_NOTIFIER_SMTP_SECURITY value
_MAIL_MODES = {"none": "insecure", "starttls": "starttls", "ssl": "ssl"}
#: HTTP answers worth another try; any other 4xx means the message itself is refused
_RETRYABLE_STATUS = {408, 409, 425, 429}


class DeliveryFailed(Exception):
    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


@dataclass
class Channels:
    settings: Settings
    timeout: float = 15.0

    def __post_init__(self) -> None:
        # Apprise logs the addresses it sends to; its lines go only to the capture below
        # (the reason kept in the delivery log), never into the service's own log.
        logging.getLogger("apprise").propagate = False

    @property
    def enabled(self) -> tuple[str, ...]:
        return tuple(name for name, on in (
            (EMAIL, bool(self.settings.notifier_smtp_host)),
            (TELEGRAM, bool(self.settings.notifier_telegram_bot_token)),
            (WEBHOOK, bool(self.settings.notifier_webhook_url))) if on)

    def addresses(self, recipient: Recipient) -> list[tuple[str, str]]:
        """(channel, address) a person is reached on; the webhook takes every message."""
        enabled = self.enabled
        found = []
        if EMAIL in enabled and recipient.email:
            found.append((EMAIL, recipient.email))
        if TELEGRAM in enabled and recipient.telegram_chat_id:
            found.append((TELEGRAM, recipient.telegram_chat_id))
        if WEBHOOK in enabled:
            found.append((WEBHOOK, recipient.phone or recipient.key))
        return found

    def send(self, message: Outgoing) -> None:
        if message.channel == WEBHOOK:
            self._webhook(message)
        elif message.channel == EMAIL:
            self._apprise(message, self._mail_url(message))
        elif message.channel == TELEGRAM:
            self._apprise(message, self._telegram_url(message),
                          api_url=self.settings.notifier_telegram_api_url)
        else:
            raise DeliveryFailed(f"unknown channel {message.channel}", permanent=True)

    # Apprise -----------------------------------------------------------------------------
    def _mail_url(self, message: Outgoing) -> str:
        s = self.settings
        query = {"smtp": s.notifier_smtp_host, "from": s.notifier_mail_from,
                 "to": message.address, "mode": _MAIL_MODES[s.notifier_smtp_security],
                 "name": "Kozomol", "format": "text"}
        if s.notifier_smtp_user:
            query |= {"user": s.notifier_smtp_user, "pass": s.notifier_smtp_password}
        # Apprise adds "+Name=value" arguments as e-mail headers: the idempotency key
        query["+X-Kozomol-Message-Id"] = message.message_id
        return (f"mailto://{quote(s.notifier_smtp_host)}:{s.notifier_smtp_port}?"
                + "&".join(f"{key}={quote(str(value), safe='@+')}"
                           for key, value in query.items()))

    def _telegram_url(self, message: Outgoing) -> str:
        return (f"tgram://{quote(self.settings.notifier_telegram_bot_token, safe=':')}/"
                f"{quote(message.address, safe='@-')}/?format=text&preview=no")

    def _apprise(self, message: Outgoing, url: str, *, api_url: str | None = None) -> None:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            raise DeliveryFailed(f"{message.channel}: address not usable", permanent=True)
        if api_url is not None:
            # The Bot API's base is a class attribute of Apprise's Telegram plugin; setting
            # it per instance points it at a self-hosted Bot API server (or the tests').
            plugin.notify_url = api_url  # type: ignore[attr-defined]
        plugin.socket_read_timeout = plugin.socket_connect_timeout = self.timeout
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = plugin.notify(body=message.body, title=message.subject,
                               body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            lines = [line.split(" - ", 2)[-1] for line in captured.getvalue().splitlines()]
            raise DeliveryFailed(f"{message.channel}: " + ("; ".join(lines[-2:]) or "refused"))

    # The outgoing webhook ----------------------------------------------------------------
    def webhook_body(self, message: Outgoing) -> bytes:
        """What Kundoluk's messaging (or any gateway) receives: one message to one person."""
        return orjson.dumps({
            "type": "notification.message", "id": message.message_id,
            "school_id": message.school_id, "kind": message.kind,
            "recipient": {"kind": message.recipient_kind, "id": message.recipient_id,
                          "student_id": message.student_id, "address": message.address},
            "language": message.language, "subject": message.subject, "body": message.body,
            "content": message.payload, "created_at": message.created_at.isoformat()})

    def _webhook(self, message: Outgoing) -> None:
        body = self.webhook_body(message)
        moment = datetime.now(UTC)
        # webhook-id is the idempotency key: a receiver drops a second delivery of it
        signature = Webhook(self.settings.notifier_webhook_secret).sign(
            message.message_id, moment, body.decode())
        headers = {"content-type": "application/json", "webhook-id": message.message_id,
                   "webhook-timestamp": str(int(moment.timestamp())),
                   "webhook-signature": signature}
        try:
            answer = httpx.post(self.settings.notifier_webhook_url, content=body,
                                headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"webhook: {type(exc).__name__}: {exc}") from exc
        if answer.status_code >= 300:
            raise DeliveryFailed(f"webhook: HTTP {answer.status_code}",
                                 permanent=400 <= answer.status_code < 500
                                 and answer.status_code not in _RETRYABLE_STATUS)
