"""The demo's notifier part: the messages a simulated school's day brings, written to the
results folder as .eml files and a table (``messages.csv``), never sent.

- A school day of the simulated quarter is replayed into a scratch notifier store up
  to 16:00 (the default reminder time): the teachers' reminders and the parents'
  notices of that day.
- From the demo's own notifier (which consumed the checker's findings and reports),
  as of the demo's judging moment: each teacher's digest of findings and the deputy
  director's summaries of the scheduled reports.

``demo.py`` calls ``write_day_messages(settings, output, spec, as_of)`` once the
services have drained after the checker's sweep.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from itertools import takewhile
from pathlib import Path
from zoneinfo import ZoneInfo

from kozomol.simulator.run import SimulationSpec, school_events
from services.notifier.adapters import facts_store
from services.notifier.domain import planning
from services.notifier.domain.model import Calendar
from services.notifier.handlers import fold_events
from shared.db.engine import make_engine
from shared.db.migrations import upgrade
from shared.events.envelope import Event
from shared.settings import SERVICES, Settings

SCHOOL_DAY_NUMBER = 10  # the tenth school day of the quarter: written work is due by then


@dataclass
class DayMessages:
    day: date
    folder: Path
    by_kind: dict[str, int]
    rows: list[list[str]]


def write_day_messages(settings: Settings, output: Path, spec: SimulationSpec,
                       as_of: datetime, *, day: date | None = None) -> DayMessages:
    folder = output / "messages"
    folder.mkdir(parents=True, exist_ok=True)
    drafts: list[tuple[datetime, planning.Draft]] = []
    day, replayed = _replayed_day(spec, day)
    drafts += replayed
    drafts += _digests_and_summaries(settings, as_of)
    rows: list[list[str]] = []
    by_kind: dict[str, int] = {}
    for number, (moment, draft) in enumerate(drafts, start=1):
        recipient = draft.recipient
        address = recipient.email or (f"telegram:{recipient.telegram_chat_id}"
                                      if recipient.telegram_chat_id else recipient.phone or "")
        name = f"{number:04d}-{draft.kind}-{recipient.person_id}.eml"
        (folder / name).write_bytes(_eml(settings, draft, moment, address).as_bytes())
        by_kind[draft.kind] = by_kind.get(draft.kind, 0) + 1
        rows.append([moment.isoformat(timespec="minutes"), draft.kind, recipient.kind,
                     recipient.full_name, address, recipient.language, draft.subject, name])
    with (output / "messages.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["at", "kind", "recipient_kind", "recipient", "address", "language",
                         "subject", "file"])
        writer.writerows(rows)
    return DayMessages(day, folder, by_kind, rows)


def _eml(settings: Settings, draft: planning.Draft, moment: datetime,
         address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Kozomol <{settings.notifier_mail_from}>"
    message["To"] = address if "@" in address and ":" not in address else \
        f"{draft.recipient.person_id}@undisclosed.invalid"
    message["Subject"] = draft.subject
    message["Date"] = format_datetime(moment)
    message["X-Kozomol-Message-Id"] = draft.key
    message["X-Kozomol-Address"] = address
    message.set_content(draft.body)
    return message


def _replayed_day(spec: SimulationSpec, day: date | None
                  ) -> tuple[date, list[tuple[datetime, planning.Draft]]]:
    """The first school's events up to 16:00 of ``day`` in a scratch store, then planned."""
    one = replace(spec, schools=1)
    stream = school_events(one)
    first = next(stream)
    calendar = Calendar.from_data(first["data"]) if first["type"] == "school.calendar" \
        else Calendar()
    if day is None:
        quarter = calendar.quarters()[one.terms[0] - 1]
        days = [quarter.start + timedelta(days=n) for n in range(60)]
        day = [d for d in days if calendar.is_school_day(d)][SCHOOL_DAY_NUMBER - 1]
    zone = ZoneInfo(calendar.timezone)
    cutoff = datetime.combine(day, time(16, 0), tzinfo=zone)
    with tempfile.TemporaryDirectory(prefix="kozomol-notifier-demo-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'notifier.sqlite3'}"
        upgrade(url, "notifier", SERVICES)
        engine = make_engine(url)
        try:
            events = [Event.from_envelope(first)] + [Event.from_envelope(e) for e in takewhile(
                lambda e: datetime.fromisoformat(e["occurred_at"]) <= cutoff, stream)]
            with engine.begin() as connection:
                for start in range(0, len(events), 2000):
                    fold_events(connection, events[start:start + 2000])
            school_id = events[0].school_id
            moment = cutoff + timedelta(minutes=5)
            written = day + timedelta(days=1 - planning.PARAMETER_DEFAULTS["written_mark_days"])
            with engine.connect() as connection:
                facts = facts_store.load_school(
                    connection, school_id, days=(day, written),
                    marks_since=(moment - timedelta(days=1)).isoformat(),
                    final_terms=[t.term_id for t in planning.final_terms_due(
                        facts_store.load_school(connection, school_id, days=(),
                                                marks_since="~"), day)])
        finally:
            engine.dispose()
    drafts = planning.reminders(facts, day) + planning.parent_notices(
        facts, day, since=moment - timedelta(days=1), now=moment)
    return day, [(moment, d) for d in drafts]


def _digests_and_summaries(settings: Settings, as_of: datetime
                           ) -> list[tuple[datetime, planning.Draft]]:
    """From the demo's notifier: digests and summaries once the settling window has passed."""
    moment = as_of + timedelta(minutes=settings.notifier_settling_minutes + 1)
    engine = make_engine(settings.database_url_for("notifier"))
    found: list[tuple[datetime, planning.Draft]] = []
    try:
        with engine.connect() as connection:
            for school_id in facts_store.schools(connection):
                facts = facts_store.load_school(connection, school_id, days=(),
                                                marks_since="~")
                today = moment.astimezone(ZoneInfo(facts.calendar.timezone)).date()
                drafts = planning.digests(
                    facts, today, moment, since=moment - timedelta(days=1),
                    settling=timedelta(minutes=settings.notifier_settling_minutes))
                drafts += planning.report_summaries(
                    facts, facts_store.pending_reports(
                        connection, school_id, max(moment, datetime.now(UTC)),
                        summarised_too=True),
                    settings.notifier_console_url)
                found += [(moment, d) for d in drafts]
    finally:
        engine.dispose()
    return found
