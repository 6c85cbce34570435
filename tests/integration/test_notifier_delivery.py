"""Delivering the notifier's messages to real servers on this machine (issue 17):
e-mail to an aiosmtpd server, the outgoing webhook to a local HTTP server (verified
with the standardwebhooks library), Telegram through Apprise's plugin pointed at a
local stand-in for the Bot API; faults: SMTP down, refusing receivers, unsubscribes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from standardwebhooks.webhooks import Webhook

from services.notifier.adapters import message_store
from services.notifier.adapters.channels import Channels
from services.notifier.adapters.tables import messages
from services.notifier.domain.model import Recipient
from services.notifier.domain.planning import Draft
from services.notifier.handlers import Notifier, fold_events
from shared.db.engine import make_engine
from shared.events.envelope import Event
from shared.settings import Settings, new_webhook_secret
from tests.notifier_support import HttpSink, SmtpSink, telegram_stand_in, text_of

pytestmark = pytest.mark.integration

NOON = datetime(2026, 10, 14, 6, 0, tzinfo=UTC)  # 12:00 in Bishkek
BOT_TOKEN = "123456789:AAH-test_token-for-kozomol"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[HttpSink]:
    sink = HttpSink(status=204, reply={})
    yield sink
    sink.close()


@pytest.fixture
def telegram() -> Iterator[HttpSink]:
    sink = telegram_stand_in()
    yield sink
    sink.close()


@pytest.fixture
def notifier_settings(embedded_settings: Settings, pg_url: str, smtp: SmtpSink,
                      migrated: Callable[[Settings], Settings]) -> Settings:
    return migrated(replace(
        embedded_settings, database_url=pg_url, notifier_smtp_host="127.0.0.1",
        notifier_smtp_port=smtp.port, notifier_smtp_security="none",
        notifier_mail_from="kozomol@shg48.edu.kg", notifier_retry_base=30,
        notifier_max_attempts=3))


@pytest.fixture
def engines() -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.dispose()


def make_notifier(settings: Settings, clock: Clock, engines: list[Engine]) -> Notifier:
    engine = make_engine(settings.database_url_for("notifier"))
    engines.append(engine)
    return Notifier(engine, settings, Channels(settings, timeout=5), clock)


TEACHER = Recipient("teacher", "t1", "Иванова Анна Петровна", email="ivanova@shg48.edu.kg",
                    telegram_chat_id="555000111")


def draft(recipient: Recipient = TEACHER, key: str = "reminder:shg48:t1:2026-10-14") -> Draft:
    return Draft(key=key, kind="reminder", school_id="shg48", recipient=recipient,
                 subject="Напоминание: электронный журнал, 14.10.2026",
                 body="Анна Петровна, до конца дня внесите в электронный журнал:\n"
                      "• 5а, Математика, 2-й урок: тему урока",
                 payload={"date": "2026-10-14", "lessons": [{"lesson_id": "l1"}]})


def queue(notifier: Notifier, *drafts: Draft) -> int:
    with notifier.engine.begin() as connection:
        return notifier.queue(connection, list(drafts), "Asia/Bishkek", notifier.clock())


def steps(notifier: Notifier, message_id: str) -> list[str]:
    with notifier.engine.connect() as connection:
        return [r["status"] for r in message_store.history(connection, message_id)]


def test_email_telegram_and_webhook_each_get_the_message_once(
        notifier_settings: Settings, smtp: SmtpSink, webhook: HttpSink, telegram: HttpSink,
        engines: list[Engine]) -> None:
    secret = new_webhook_secret()
    settings = replace(notifier_settings, notifier_webhook_url=f"{webhook.url}/kundoluk/messages",
                       notifier_webhook_secret=secret, notifier_telegram_bot_token=BOT_TOKEN,
                       notifier_telegram_api_url=f"{telegram.url}/bot")
    notifier = make_notifier(settings, Clock(NOON), engines)
    assert queue(notifier, draft()) == 3
    assert queue(notifier, draft()) == 0  # the same message again: nothing new
    assert notifier.send_due() == 3
    assert notifier.send_due() == 0

    [mail] = smtp.messages
    assert mail["To"] == "ivanova@shg48.edu.kg"
    assert mail["From"] == "Kozomol <kozomol@shg48.edu.kg>"
    assert mail["Subject"] == "Напоминание: электронный журнал, 14.10.2026"
    assert mail["X-Kozomol-Message-Id"] == "reminder:shg48:t1:2026-10-14:email"
    assert text_of(mail) == ("Анна Петровна, до конца дня внесите в электронный журнал:\n"
                             "• 5а, Математика, 2-й урок: тему урока")

    [(path, _, body)] = telegram.requests
    assert path == f"/bot{BOT_TOKEN}/sendMessage"
    sent = json.loads(body)
    assert sent["chat_id"] == 555000111
    assert "Напоминание: электронный журнал, 14.10.2026" in sent["text"]
    assert "• 5а, Математика, 2-й урок: тему урока" in sent["text"]

    [(path, headers, body)] = webhook.requests
    assert path == "/kundoluk/messages"
    payload = Webhook(secret).verify(body, headers)  # raises unless the signature verifies
    assert headers["webhook-id"] == "reminder:shg48:t1:2026-10-14:webhook"
    assert payload["recipient"] == {"kind": "teacher", "id": "t1", "student_id": None,
                                    "address": "teacher:t1"}
    assert payload["content"]["lessons"] == [{"lesson_id": "l1"}]
    assert payload["language"] == "ru" and payload["kind"] == "reminder"
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(new_webhook_secret()).verify(body, headers)

    for channel in ("email", "telegram", "webhook"):
        assert steps(notifier, f"reminder:shg48:t1:2026-10-14:{channel}") == ["queued", "sent"]


def test_smtp_down_for_a_while_the_message_is_retried_and_delivered_once(
        notifier_settings: Settings, smtp: SmtpSink, engines: list[Engine],
        caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(NOON)
    notifier = make_notifier(notifier_settings, clock, engines)
    queue(notifier, draft())
    smtp.stop()
    assert notifier.send_due() == 1
    message_id = "reminder:shg48:t1:2026-10-14:email"
    with notifier.engine.connect() as connection:
        [row] = message_store.listing(connection, "shg48")
        log = message_store.history(connection, message_id)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert "connection" in row["last_error"].lower()
    assert "next attempt 2026-10-14 06:00:30 UTC" in log[-1]["detail"]  # 30 s backoff
    clock.now += timedelta(seconds=10)
    assert notifier.send_due() == 0  # not before its backoff has passed
    clock.now += timedelta(seconds=25)
    assert notifier.send_due() == 1  # still down: second attempt fails, waits 60 s
    smtp.start()
    clock.now += timedelta(seconds=61)
    assert notifier.send_due() == 1
    clock.now += timedelta(hours=2)
    assert notifier.send_due() == 0
    assert len(smtp.messages) == 1
    assert steps(notifier, message_id) == ["queued", "failed", "retried", "failed", "retried",
                                           "sent"]
    # the reasons are in the delivery log; the process's own log names no address
    assert "message not delivered" in caplog.text
    assert "ivanova@" not in caplog.text


def test_a_message_that_keeps_failing_is_given_up_with_its_reason(
        notifier_settings: Settings, smtp: SmtpSink, engines: list[Engine]) -> None:
    clock = Clock(NOON)
    notifier = make_notifier(notifier_settings, clock, engines)
    queue(notifier, draft())
    smtp.stop()
    for _ in range(5):
        notifier.send_due()
        clock.now += timedelta(minutes=10)
    message_id = "reminder:shg48:t1:2026-10-14:email"
    history = steps(notifier, message_id)
    assert history[-1] == "given_up" and history.count("failed") == 2  # 3 attempts in all
    with notifier.engine.connect() as connection:
        assert message_store.history(connection, message_id)[-1]["detail"]


def test_a_receiver_refusing_the_webhook_is_retried_on_5xx_and_given_up_on_4xx(
        notifier_settings: Settings, webhook: HttpSink, engines: list[Engine]) -> None:
    clock = Clock(NOON)
    settings = replace(notifier_settings, notifier_smtp_host="",
                       notifier_webhook_url=webhook.url,
                       notifier_webhook_secret=new_webhook_secret())
    notifier = make_notifier(settings, clock, engines)
    queue(notifier, draft())
    webhook.status = 503
    notifier.send_due()
    assert steps(notifier, "reminder:shg48:t1:2026-10-14:webhook")[-1] == "failed"
    webhook.status = 422
    clock.now += timedelta(minutes=5)
    notifier.send_due()
    assert steps(notifier, "reminder:shg48:t1:2026-10-14:webhook")[-2:] == ["retried",
                                                                            "given_up"]


def profile(notifications: bool, at: datetime, event_id: str) -> Event:
    return Event(event_id, "teacher.profile", "shg48", at, {
        "teacher_id": "t1", "full_name": "Иванова Анна Петровна",
        "email": "ivanova@shg48.edu.kg", "notifications": notifications})


def test_an_unsubscribe_cancels_unsent_messages_at_once_and_a_stale_one_does_not(
        notifier_settings: Settings, smtp: SmtpSink, engines: list[Engine]) -> None:
    notifier = make_notifier(notifier_settings, Clock(NOON), engines)
    queue(notifier, draft(), draft(key="digest:shg48:t1:2026-10-14"))
    with notifier.engine.begin() as connection:
        fold_events(connection, [profile(True, NOON, "e2")])
        # an older profile saying "no" arrives late: the newer "yes" stands
        fold_events(connection, [profile(False, NOON - timedelta(days=1), "e1")])
    with notifier.engine.connect() as connection:
        assert {r["status"] for r in message_store.listing(connection)} == {"queued"}
    with notifier.engine.begin() as connection:
        fold_events(connection, [profile(False, NOON + timedelta(minutes=1), "e3")])
    assert notifier.send_due() == 0
    assert smtp.messages == []
    with notifier.engine.connect() as connection:
        rows = connection.execute(select(messages.c.status)).scalars().all()
    assert rows == ["cancelled", "cancelled"]
    assert steps(notifier, "digest:shg48:t1:2026-10-14:email") == ["queued", "cancelled"]


def test_messages_planned_in_the_evening_wait_for_the_morning(
        notifier_settings: Settings, smtp: SmtpSink, engines: list[Engine]) -> None:
    evening = datetime(2026, 10, 14, 16, 0, tzinfo=UTC)  # 22:00 in Bishkek
    clock = Clock(evening)
    notifier = make_notifier(notifier_settings, clock, engines)
    queue(notifier, draft(key="summary:shg48:t1:fill_rate:x"))
    assert notifier.send_due() == 0
    clock.now = datetime(2026, 10, 15, 1, 59, tzinfo=UTC)  # 07:59
    assert notifier.send_due() == 0
    clock.now = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)   # 08:00
    assert notifier.send_due() == 1
    assert len(smtp.messages) == 1


