"""A notifier killed in the middle of a batch of e-mails (issue 17): started again, it
sends the rest; nothing is lost and nothing reaches the SMTP server twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notifier.adapters import message_store
from services.notifier.adapters.channels import Channels
from services.notifier.domain.model import Recipient
from services.notifier.domain.planning import Draft
from services.notifier.handlers import Notifier
from shared.db.engine import make_engine
from shared.settings import Settings
from tests.notifier_support import SmtpSink
from tests.support import BROKER_URL, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 30
KILL_AT = 11  # the 11th recipient: ten e-mails are through, the eleventh is being sent


def daytime_zone() -> str:
    """A fixed-offset zone where it is now about noon, so the wall clock at which the test
    runs never falls into the quiet hours (21:00-08:00)."""
    hours = (12 - datetime.now(UTC).hour + 12) % 24 - 12
    return f"Etc/GMT{-hours:+d}" if hours else "UTC"


def start_notifier(settings: Settings, smtp: SmtpSink) -> subprocess.Popen[bytes]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")},
        "KOZOMOL_DATABASE_URL": settings.database_url,
        "KOZOMOL_BROKER_URL": BROKER_URL,
        "KOZOMOL_NAMESPACE": settings.namespace,
        "KOZOMOL_WEBHOOK_SECRETS": settings.webhook_secrets[0],
        "KOZOMOL_DATA_DIR": str(settings.data_dir),
        "KOZOMOL_QUEUE_TYPE": settings.queue_type,
        "KOZOMOL_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "KOZOMOL_NOTIFIER_SMTP_PORT": str(smtp.port),
        "KOZOMOL_NOTIFIER_SMTP_SECURITY": "none",
        "KOZOMOL_NOTIFIER_SEND_LEASE": "3",
        "KOZOMOL_NOTIFIER_SEND_INTERVAL": "0.2",
        "KOZOMOL_NOTIFIER_PLAN_INTERVAL": "3600",
        "KOZOMOL_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "kozomol", "notifier"], env=environment,
                            cwd=ROOT)


def test_a_notifier_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
        production_settings: Settings, migrated: Any) -> None:
    settings = migrated(production_settings)
    smtp = SmtpSink()
    smtp.start()
    engine = make_engine(settings.database_url_for("notifier"))
    with_smtp = replace(settings, notifier_smtp_host="127.0.0.1", notifier_smtp_port=smtp.port)
    notifier = Notifier(engine, with_smtp, Channels(with_smtp))
    drafts = [Draft(key=f"reminder:shg48:t{n:02d}:2026-10-14", kind="reminder",
                    school_id="shg48",
                    recipient=Recipient("teacher", f"t{n:02d}", f"Учитель {n} Иванович",
                                        email=f"t{n:02d}@shg48.edu.kg"),
                    subject="Напоминание", body=f"Сообщение {n}") for n in range(MESSAGES)]
    with engine.begin() as connection:
        assert notifier.queue(connection, drafts, daytime_zone(), datetime.now(UTC)) == MESSAGES
    first = start_notifier(settings, smtp)
    killed = threading.Event()
    recipients: list[str] = []

    def kill_on_the_eleventh(address: str) -> None:
        recipients.append(address)
        if len(recipients) == KILL_AT and not killed.is_set():
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed.set()

    smtp.on_rcpt = kill_on_the_eleventh
    second: subprocess.Popen[bytes] | None = None
    try:
        assert killed.wait(60), "the notifier never reached the eleventh e-mail"
        assert len(smtp.messages) == KILL_AT - 1
        smtp.on_rcpt = None
        second = start_notifier(settings, smtp)
        wait_for(lambda: len(smtp.messages) >= MESSAGES, timeout=90)
        wait_for(lambda: _statuses(engine) == {"sent": MESSAGES}, timeout=30)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(20)
        smtp.stop()
    received = Counter(to for _, tos in smtp.envelopes for to in tos)
    assert received == Counter({f"t{n:02d}@shg48.edu.kg": 1 for n in range(MESSAGES)})
    with engine.connect() as connection:
        interrupted = message_store.history(connection, f"{drafts[KILL_AT - 1].key}:email")
    assert [step["status"] for step in interrupted] == ["queued", "retried", "sent"]
    assert interrupted[1]["detail"] == "the previous sender stopped while sending"
    engine.dispose()


def _statuses(engine: Any) -> dict[str, int]:
    with engine.connect() as connection:
        return message_store.counts(connection)


