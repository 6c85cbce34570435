"""The delivery log through the administrators' API (issue 17): the notifier announces
every step as notification.logged, the gateway keeps a read model of it (never
reading the notifier's tables) and serves it to the school's administrators."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.gateway.adapters.tokens import create_token
from services.gateway.consumer import bootstrap_read_model
from services.gateway.domain.access import Role
from services.notifier.adapters.channels import Channels
from services.notifier.domain.model import Recipient
from services.notifier.domain.planning import Draft
from services.notifier.handlers import Notifier
from services.notifier.main import bootstrap
from shared.settings import Settings
from tests.integration.test_notifier_crash import daytime_zone
from tests.notifier_support import SmtpSink
from tests.support import wait_for

pytestmark = pytest.mark.integration


def test_administrators_read_each_messages_steps_and_others_do_not(
        production_settings: Settings, migrated: Any, gateway_client: Any) -> None:
    smtp = SmtpSink()
    smtp.start()
    settings = migrated(replace(
        production_settings, notifier_smtp_host="127.0.0.1", notifier_smtp_port=smtp.port,
        notifier_smtp_security="none", notifier_send_interval=0.2, outbox_relay_interval=0.2,
        notifier_plan_interval=3600))
    gateway, client = gateway_client(settings)
    with gateway.engine.begin() as connection:
        tokens = {role: create_token(connection, role, "shg48").token
                  for role in (Role.DEPUTY, Role.AUDITOR)}
        tokens[Role.TEACHER] = create_token(connection, Role.TEACHER, "shg48",
                                            teacher_id="t1").token
        other = create_token(connection, Role.DEPUTY, "sch0002").token
    notifier, read_model = bootstrap(settings), bootstrap_read_model(settings)
    draft = Draft(key="digest:shg48:t1:2026-10-14", kind="digest", school_id="shg48",
                  recipient=Recipient("teacher", "t1", "Иванова Анна Петровна",
                                      email="ivanova@shg48.edu.kg"),
                  subject="Замечания по электронному журналу на 14.10.2026", body="…")
    message_id = "digest:shg48:t1:2026-10-14:email"
    notifier.start()
    read_model.start()
    try:
        with notifier.engine.begin() as connection:
            Notifier(notifier.engine, settings, Channels(settings)).queue(
                connection, [draft], daytime_zone(), datetime.now(UTC))

        def shown() -> Any:
            answer = client.get(f"/api/v1/notifications/{message_id}",
                                headers={"Authorization": f"Bearer {tokens[Role.DEPUTY]}"})
            return answer.json if answer.status_code == 200 and \
                answer.json["status"] == "sent" else None

        item = wait_for(shown, timeout=60)
    finally:
        notifier.stop()
        read_model.stop()
        smtp.stop()
    assert len(smtp.messages) == 1
    assert item["recipient_kind"] == "teacher" and item["recipient_id"] == "t1"
    assert item["channel"] == "email" and item["attempts"] == 1
    assert [step["status"] for step in item["history"]] == ["queued", "sent"]
    listing = client.get("/api/v1/notifications?status=sent",
                         headers={"Authorization": f"Bearer {tokens[Role.AUDITOR]}"}).json
    assert [i["message_id"] for i in listing["items"]] == [message_id]
    assert client.get("/api/v1/notifications?status=failed", headers={
        "Authorization": f"Bearer {tokens[Role.AUDITOR]}"}).json["items"] == []
    teacher = client.get("/api/v1/notifications",
                         headers={"Authorization": f"Bearer {tokens[Role.TEACHER]}"})
    assert teacher.status_code == 403
    foreign = {"Authorization": f"Bearer {other}"}
    assert client.get(f"/api/v1/notifications/{message_id}", headers=foreign).status_code == 404
    assert client.get("/api/v1/notifications", headers=foreign).json["items"] == []
    assert client.get("/api/v1/notifications?limit=0", headers=foreign).status_code == 400
    paths = client.get("/openapi.json").json["paths"]
    assert "/api/v1/notifications/{message_id}" in paths
