"""The services' own messages: one typed definition each, validated where they are built."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import pytest

from shared.events.envelope import new_envelope
from shared.events.jsonschema import message_json_schema
from shared.events.messages import (
    COMMANDS,
    EVENTS,
    FINDING_FIELDS,
    MESSAGES,
    BackupCompleted,
    Finding,
    FindingUpdate,
    InvalidMessage,
    NotificationLogged,
    PrintRequest,
    message_errors,
    new_backup_id,
)
from shared.events.owners import SERVICE_NAMESPACES, owner_of
from shared.events.typed import MessageDataError
from tests.message_samples import FINDING, SAMPLES

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "docs" / "schemas" / "internal"
NOW = datetime(2026, 11, 28, 20, tzinfo=UTC)


def test_every_message_type_is_a_service_s_and_has_a_sample() -> None:
    assert set(SAMPLES) == set(MESSAGES)
    assert not set(EVENTS) & set(COMMANDS)
    for message_type in MESSAGES:
        assert owner_of(message_type) in SERVICE_NAMESPACES.values(), message_type


@pytest.mark.parametrize("message_type", sorted(MESSAGES))
def test_samples_validate_and_load(message_type: str) -> None:
    assert message_errors(message_type, SAMPLES[message_type]) == {}
    prefix = "cmd" if message_type in COMMANDS else {
        "checker": "chk", "printer": "prn", "backup": "bak", "notifier": "ntf"}[
        str(owner_of(message_type))]
    envelope = new_envelope(prefix, message_type, "s", SAMPLES[message_type], NOW,
                            source="gateway" if prefix == "cmd" else None)
    jsonschema.Draft202012Validator(message_json_schema(message_type),
                                    format_checker=jsonschema.FormatChecker()
                                    ).validate(envelope)
    MESSAGES[message_type].from_data(SAMPLES[message_type])


@pytest.mark.parametrize("message_type", sorted(MESSAGES))
def test_published_json_schema_is_current(message_type: str) -> None:
    """docs/schemas/internal is regenerated with `kozomol schemas export`; it must not drift."""
    published = json.loads((SCHEMA_DIR / f"{message_type}.json").read_text())
    assert published == message_json_schema(message_type)
    jsonschema.Draft202012Validator.check_schema(published)


def test_no_stale_schema_files() -> None:
    assert {path.stem for path in SCHEMA_DIR.glob("*.json")} == set(MESSAGES)


def test_a_malformed_message_is_refused_where_it_is_built() -> None:
    with pytest.raises(InvalidMessage) as missing:
        new_envelope("chk", "finding.opened", "s", {**FINDING, "rule": None}, NOW)
    assert missing.value.errors == {"rule": ["Field may not be null."]}
    wrong = {**SAMPLES["print.completed"], "pages": "four"}
    with pytest.raises(InvalidMessage, match="pages"):
        new_envelope("prn", "print.completed", "s", wrong, NOW)
    with pytest.raises(InvalidMessage, match="Unknown field"):
        new_envelope("bak", "backup.verified", "*",
                     {**SAMPLES["backup.verified"], "extra": 1}, NOW)
    with pytest.raises(InvalidMessage, match="no schema"):
        new_envelope("prn", "print.cancelled", "s", {}, NOW)
    with pytest.raises(InvalidMessage, match="no schema"):
        new_envelope("cmd", "checker.sweep", "s", {}, NOW, source="gateway")
    with pytest.raises(InvalidMessage, match="Not a valid date"):
        new_envelope("chk", "finding.updated", "s", {**FINDING, "date": "27.11.2026"}, NOW)
    # Kundoluk's types are the intake's business (the contract's schemas), not checked here.
    assert new_envelope("chk", "mark.recorded", "s", {}, NOW)["type"] == "mark.recorded"


def test_commands_are_checked_by_the_rules_their_receivers_apply() -> None:
    request = SAMPLES["print.request"]
    poster = message_errors("print.request", {**request, "kind": "poster"})
    assert poster.keys() == {"kind"} and "class_journal" in poster["kind"][0]
    assert message_errors("print.request", {**request, "parameters": {}}) == {
        "parameters": {"class_id": ["is required"]}}
    assert message_errors("print.request", {**request, "parameters": []})["parameters"]
    assert message_errors("backup.create", {**SAMPLES["backup.create"],
                                            "backup_id": "backup-1"}).keys() == {"backup_id"}
    assert message_errors("archive.year_end", {**SAMPLES["archive.year_end"],
                                               "academic_year": "26/27"}).keys() == {
        "academic_year"}
    assert message_errors("finding.update", {**SAMPLES["finding.update"],
                                             "status": "withdrawn"}).keys() == {"status"}
    assert message_errors("finding.update", []) == {
        "_schema": ["message data must be an object"]}


def test_a_consumer_gets_a_typed_object() -> None:
    finding = Finding.from_data(FINDING)
    assert finding.date == date(2026, 11, 27)
    assert finding.detected_at == NOW and finding.history[0].at == NOW
    assert finding.to_data() == FINDING
    assert tuple(FINDING) == FINDING_FIELDS
    logged = NotificationLogged.from_data(SAMPLES["notification.logged"])
    assert (logged.at, logged.attempt, logged.detail) == (NOW, 0, None)


def test_loading_is_tolerant_as_the_consumers_were() -> None:
    """A partial message (an older publisher's) takes defaults; unknown fields are ignored;
    only a field the consumer cannot do without is indispensable."""
    partial = BackupCompleted.from_data({"backup_id": "bk1", "kind": "daily", "later": 1})
    assert (partial.key, partial.events, partial.created_at) == (None, None, None)
    assert FindingUpdate.from_data({"finding_id": "f1"}).actor == "api"
    assert PrintRequest.from_data({"job_id": "j1", "scope": None}).parameters is None
    with pytest.raises(MessageDataError, match="finding_id"):
        FindingUpdate.from_data({"status": "fixed"})
    with pytest.raises(MessageDataError, match="date"):
        Finding.from_data({**FINDING, "date": "yesterday"})


def test_backup_ids_have_one_format() -> None:
    backup_id = new_backup_id()
    assert message_errors("backup.create", {**SAMPLES["backup.create"],
                                            "backup_id": backup_id}) == {}
    assert backup_id != new_backup_id()


#: the callables that publish a message → where its type stands among their arguments
PUBLISHERS = {"new_envelope": 1, "announce": 1, "record_command": 3, "send_command": 2}


def _published_types(path: Path) -> set[str]:
    """The literal message types given to a publisher (``new_envelope``, a service's
    ``announce``, the gateway's ``record_command`` / ``send_command``) in one source file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None)
        if name not in PUBLISHERS:
            continue
        index = PUBLISHERS[name]
        kind = node.args[index] if len(node.args) > index else None
        if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
            found.add(kind.value)
    return found


def test_every_literal_publisher_names_a_message_with_a_schema() -> None:
    published = set()
    for path in (ROOT / "services").rglob("*.py"):
        published |= _published_types(path)
    assert published, "no publisher found: the scan is broken"
    assert published <= set(MESSAGES), sorted(published - set(MESSAGES))
