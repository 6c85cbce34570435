"""What the checker knows of a school, folded from events in any order (pure).

Entity events carry the whole current state; the one with the latest
``occurred_at`` (ties broken by event id) is the current state, whatever the
arrival order. What a rule needs about *when* something was first entered is
kept as a minimum over all events, which is order-independent too. Folding the
same set of events in any order, with any duplicates, gives the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Stamp = tuple[datetime, str]  # (occurred_at, event id): a total order of events


def _min(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate < current else current


@dataclass
class Latest:
    """The newest state of one entity, and when it was first seen."""

    stamp: Stamp | None = None
    data: dict[str, Any] | None = None
    deleted_stamp: Stamp | None = None
    first_at: datetime | None = None

    def offer(self, stamp: Stamp, data: dict[str, Any]) -> None:
        self.first_at = _min(self.first_at, stamp[0])
        if self.stamp is None or stamp > self.stamp:
            self.stamp, self.data = stamp, data

    def delete(self, stamp: Stamp) -> None:
        if self.deleted_stamp is None or stamp > self.deleted_stamp:
            self.deleted_stamp = stamp

    @property
    def live(self) -> bool:
        return self.data is not None and (self.deleted_stamp is None
                                          or self.stamp is None
                                          or self.deleted_stamp < self.stamp)


@dataclass
class LessonFacts(Latest):
    first_topic_at: datetime | None = None
    first_homework_at: datetime | None = None
    first_substitution_at: datetime | None = None


@dataclass
class RosterFacts(Latest):
    """A class's roster: its newest state, and every snapshot ever sent.

    Who was in the class when is read from the snapshots (clause 4.3: class
    teachers keep the lists current), so a student who leaves or joins
    changes the terms they are judged for, not the past.
    """

    #: event id -> (occurred_at, the student ids of that snapshot)
    versions: dict[str, tuple[datetime, tuple[str, ...]]] = field(default_factory=dict)
    #: student -> their subgroups in the newest snapshot that lists them (a student who
    #: left keeps the subgroups they were in)
    groups: dict[str, tuple[Stamp, dict[str, str]]] = field(default_factory=dict)

    def offer(self, stamp: Stamp, data: dict[str, Any]) -> None:
        super().offer(stamp, data)
        self.versions[stamp[1]] = (stamp[0], tuple(sorted(
            s["student_id"] for s in data.get("students", []))))
        for student in data.get("students", []):
            known = self.groups.get(student["student_id"])
            if known is None or stamp > known[0]:
                self.groups[student["student_id"]] = (stamp, {
                    subject: str(group)
                    for subject, group in (student.get("subgroups") or {}).items()})

    def snapshots(self) -> list[tuple[datetime, tuple[str, ...]]]:
        """The snapshots in the order they were entered (ties by event id)."""
        return [self.versions[key] for key in sorted(
            self.versions, key=lambda k: (self.versions[k][0], k))]


@dataclass
class AttendanceFacts(Latest):
    #: student -> first time a reason was given for their absence
    first_reason_at: dict[str, datetime] = field(default_factory=dict)


@dataclass
class VisitFacts:
    """A student's visits to the journal (clause 4.3), as days: the first and the newest
    day Kundoluk reported on, and the newest day the student, and their parents, came.
    Minimums and maximums only, so the order of the daily reports does not matter."""

    class_id: str = ""
    first_reported: date | None = None
    last_reported: date | None = None
    last_student_visit: date | None = None
    last_parent_visit: date | None = None

    def offer(self, class_id: str, day: date, student_visits: int, parent_visits: int) -> None:
        if self.last_reported is None or (day, class_id) > (self.last_reported, self.class_id):
            self.class_id = class_id
        self.first_reported = _min_day(self.first_reported, day)
        self.last_reported = _max_day(self.last_reported, day)
        if student_visits > 0:
            self.last_student_visit = _max_day(self.last_student_visit, day)
        if parent_visits > 0:
            self.last_parent_visit = _max_day(self.last_parent_visit, day)

    def dump(self) -> dict[str, Any]:
        return {"class_id": self.class_id, **{
            name: (getattr(self, name).isoformat() if getattr(self, name) else None)
            for name in ("first_reported", "last_reported", "last_student_visit",
                         "last_parent_visit")}}

    @classmethod
    def load(cls, state: dict[str, Any]) -> VisitFacts:
        return cls(state.get("class_id", ""), *(
            date.fromisoformat(state[name]) if state.get(name) else None
            for name in ("first_reported", "last_reported", "last_student_visit",
                         "last_parent_visit")))


def _min_day(current: date | None, candidate: date) -> date:
    return candidate if current is None or candidate < current else current


def _max_day(current: date | None, candidate: date) -> date:
    return candidate if current is None or candidate > current else current


@dataclass
class Term:
    term_id: str
    kind: str
    number: int
    start: date
    end: date


@dataclass
class SchoolFacts:
    school_id: str
    calendar: Latest = field(default_factory=Latest)
    outages: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    classes: dict[str, RosterFacts] = field(default_factory=dict)
    teachers: dict[str, Latest] = field(default_factory=dict)  # names, for the reports
    plans: dict[tuple[str, str, str | None, str], Latest] = field(default_factory=dict)
    lessons: dict[str, LessonFacts] = field(default_factory=dict)
    attendance: dict[str, AttendanceFacts] = field(default_factory=dict)
    marks: dict[str, Latest] = field(default_factory=dict)
    exemptions: dict[tuple[str, str, str, str], Latest] = field(default_factory=dict)
    #: (class, term) -> every moment its personal data were checked, in order
    verified: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    #: student -> their journal visits (``journal.visits``)
    visits: dict[str, VisitFacts] = field(default_factory=dict)

    def apply(self, event_id: str, event_type: str, occurred_at: datetime,
              data: dict[str, Any]) -> None:
        """Fold one event in; unknown types are ignored (forward compatibility)."""
        stamp = (occurred_at, event_id)
        if event_type == "school.calendar":
            self.calendar.offer(stamp, data)
        elif event_type == "platform.outage":
            self.outages[event_id] = (datetime.fromisoformat(data["started_at"]),
                                      datetime.fromisoformat(data["ended_at"]))
        elif event_type == "class.roster":
            self.classes.setdefault(data["class_id"], RosterFacts()).offer(stamp, data)
        elif event_type == "teacher.profile":
            self.teachers.setdefault(data["teacher_id"], Latest()).offer(stamp, data)
        elif event_type == "subject.plan":
            key = (data["class_id"], data["subject_id"], data.get("subgroup"), data["term_id"])
            self.plans.setdefault(key, Latest()).offer(stamp, data)
        elif event_type == "lesson.recorded":
            self._lesson(stamp, data)
        elif event_type == "lesson.deleted":
            self.lessons.setdefault(data["lesson_id"], LessonFacts()).delete(stamp)
        elif event_type == "attendance.recorded":
            self._attendance(stamp, data)
        elif event_type == "mark.recorded":
            self.marks.setdefault(data["mark_id"], Latest()).offer(stamp, data)
        elif event_type == "mark.deleted":
            self.marks.setdefault(data["mark_id"], Latest()).delete(stamp)
        elif event_type == "exemption.recorded":
            key = (data["student_id"], data["subject_id"], data["from"], data["to"])
            self.exemptions.setdefault(key, Latest()).offer(stamp, data)
        elif event_type == "personal_data.verified":
            checks = self.verified.setdefault((data["class_id"], data["term_id"]), [])
            if occurred_at not in checks:
                checks.append(occurred_at)
                checks.sort()
        elif event_type == "journal.visits":
            day = date.fromisoformat(str(data["date"]))
            for entry in data.get("visits", []):
                self.visits.setdefault(entry["student_id"], VisitFacts()).offer(
                    data["class_id"], day, int(entry["student_visits"]),
                    int(entry["parent_visits"]))

    def _lesson(self, stamp: Stamp, data: dict[str, Any]) -> None:
        lesson = self.lessons.setdefault(data["lesson_id"], LessonFacts())
        lesson.offer(stamp, data)
        if (data.get("topic") or "").strip():
            lesson.first_topic_at = _min(lesson.first_topic_at, stamp[0])
        if (data.get("homework") or "").strip():
            lesson.first_homework_at = _min(lesson.first_homework_at, stamp[0])
        if data.get("is_substitution"):
            lesson.first_substitution_at = _min(lesson.first_substitution_at, stamp[0])

    def _attendance(self, stamp: Stamp, data: dict[str, Any]) -> None:
        sheet = self.attendance.setdefault(data["lesson_id"], AttendanceFacts())
        sheet.offer(stamp, data)
        for absence in data.get("absent", []):
            if absence.get("reason"):
                student = absence["student_id"]
                sheet.first_reason_at[student] = _min(sheet.first_reason_at.get(student),
                                                      stamp[0])


# Storage form: one row per entity, (kind, key) -> a JSON-able state ----------------------
EntityRef = tuple[str, str]


def entity_of(event_type: str, event_id: str, data: dict[str, Any]) -> EntityRef | None:
    """Which stored entity an event changes (None: an event the checker ignores)."""
    if event_type == "school.calendar":
        return ("calendar", "")
    if event_type == "platform.outage":
        return ("outage", event_id)
    if event_type == "class.roster":
        return ("class", data["class_id"])
    if event_type == "teacher.profile":
        return ("teacher", data["teacher_id"])
    if event_type == "subject.plan":
        return ("plan", _join(data["class_id"], data["subject_id"], data.get("subgroup"),
                              data["term_id"]))
    if event_type in ("lesson.recorded", "lesson.deleted"):
        return ("lesson", data["lesson_id"])
    if event_type == "attendance.recorded":
        return ("attendance", data["lesson_id"])
    if event_type in ("mark.recorded", "mark.deleted"):
        return ("mark", data["mark_id"])
    if event_type == "exemption.recorded":
        return ("exemption", _join(data["student_id"], data["subject_id"], data["from"],
                                   data["to"]))
    if event_type == "personal_data.verified":
        return ("verified", _join(data["class_id"], data["term_id"]))
    return None


def entities_of(event_type: str, event_id: str, data: dict[str, Any]) -> list[EntityRef]:
    """Every stored entity an event changes: one, none, or (a class's daily journal
    visits) one per student."""
    if event_type == "journal.visits":
        return [("visits", entry["student_id"]) for entry in data.get("visits", [])]
    ref = entity_of(event_type, event_id, data)
    return [] if ref is None else [ref]


def _join(*parts: str | None) -> str:
    return "|".join("" if part is None else part for part in parts)


def _split(key: str) -> list[str | None]:
    return [part or None for part in key.split("|")]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _stamp(value: list[str] | None) -> Stamp | None:
    return (datetime.fromisoformat(value[0]), value[1]) if value else None


def dump_entity(facts: SchoolFacts, ref: EntityRef) -> dict[str, Any] | None:
    """The stored form of one entity (None if the facts do not hold it)."""
    kind, key = ref
    if kind == "outage":
        outage = facts.outages.get(key)
        return {"started_at": _iso(outage[0]), "ended_at": _iso(outage[1])} if outage else None
    if kind == "verified":
        class_id, term_id = _split(key)
        checks = facts.verified.get((class_id or "", term_id or ""))
        return {"first_at": _iso(checks[0]), "all": [_iso(at) for at in checks]} \
            if checks else None
    if kind == "visits":
        visits = facts.visits.get(key)
        return visits.dump() if visits else None
    entity = _entity(facts, ref, create=False)
    if entity is None:
        return None
    state: dict[str, Any] = {
        "stamp": [_iso(entity.stamp[0]), entity.stamp[1]] if entity.stamp else None,
        "data": entity.data,
        "deleted": ([_iso(entity.deleted_stamp[0]), entity.deleted_stamp[1]]
                    if entity.deleted_stamp else None),
        "first_at": _iso(entity.first_at),
    }
    if isinstance(entity, LessonFacts):
        state["firsts"] = {"topic": _iso(entity.first_topic_at),
                           "homework": _iso(entity.first_homework_at),
                           "substitution": _iso(entity.first_substitution_at)}
    if isinstance(entity, AttendanceFacts):
        state["reasons"] = {sid: _iso(at) for sid, at in entity.first_reason_at.items()}
    if isinstance(entity, RosterFacts):
        state["versions"] = {event_id: [_iso(at), list(students)]
                             for event_id, (at, students) in entity.versions.items()}
        state["groups"] = {sid: [_iso(stamp[0]), stamp[1], groups]
                           for sid, (stamp, groups) in entity.groups.items()}
    return state


def load_entity(facts: SchoolFacts, ref: EntityRef, state: dict[str, Any]) -> None:
    """Put a stored entity back into ``facts``."""
    kind, key = ref
    if kind == "outage":
        facts.outages[key] = (datetime.fromisoformat(state["started_at"]),
                              datetime.fromisoformat(state["ended_at"]))
        return
    if kind == "verified":
        class_id, term_id = _split(key)
        facts.verified[(class_id or "", term_id or "")] = [
            datetime.fromisoformat(at) for at in state.get("all", [state["first_at"]])]
        return
    if kind == "visits":
        facts.visits[key] = VisitFacts.load(state)
        return
    entity = _entity(facts, ref, create=True)
    assert entity is not None
    entity.stamp, entity.data = _stamp(state.get("stamp")), state.get("data")
    entity.deleted_stamp, entity.first_at = _stamp(state.get("deleted")), _at(state["first_at"])
    if isinstance(entity, LessonFacts):
        firsts = state.get("firsts", {})
        entity.first_topic_at = _at(firsts.get("topic"))
        entity.first_homework_at = _at(firsts.get("homework"))
        entity.first_substitution_at = _at(firsts.get("substitution"))
    if isinstance(entity, AttendanceFacts):
        entity.first_reason_at = {sid: datetime.fromisoformat(at)
                                  for sid, at in state.get("reasons", {}).items() if at}
    if isinstance(entity, RosterFacts):
        versions = state.get("versions")
        if versions is None and entity.stamp and entity.data:  # stored before versions were kept
            versions = {entity.stamp[1]: [_iso(entity.stamp[0]), [
                s["student_id"] for s in entity.data.get("students", [])]]}
        entity.versions = {event_id: (datetime.fromisoformat(at), tuple(students))
                           for event_id, (at, students) in (versions or {}).items()}
        groups = state.get("groups")
        if groups is None and entity.stamp and entity.data:  # stored before groups were kept
            groups = {s["student_id"]: [_iso(entity.stamp[0]), entity.stamp[1],
                                        s.get("subgroups") or {}]
                      for s in entity.data.get("students", [])}
        entity.groups = {sid: ((datetime.fromisoformat(at), event_id), dict(subgroups))
                         for sid, (at, event_id, subgroups) in (groups or {}).items()}


def _entity(facts: SchoolFacts, ref: EntityRef, *, create: bool) -> Latest | None:
    kind, key = ref
    if kind == "calendar":
        return facts.calendar
    table: Any
    factory: type[Latest] = Latest
    index: Any = key
    if kind == "class":
        table, factory = facts.classes, RosterFacts
    elif kind == "teacher":
        table = facts.teachers
    elif kind == "plan":
        class_id, subject_id, subgroup, term_id = _split(key)
        table, index = facts.plans, (class_id, subject_id, subgroup, term_id)
    elif kind == "lesson":
        table, factory = facts.lessons, LessonFacts
    elif kind == "attendance":
        table, factory = facts.attendance, AttendanceFacts
    elif kind == "mark":
        table = facts.marks
    elif kind == "exemption":
        table, index = facts.exemptions, tuple(_split(key))
    else:
        raise ValueError(f"unknown entity kind {kind}")
    if create and index not in table:
        table[index] = factory()
    found: Latest | None = table.get(index)
    return found
