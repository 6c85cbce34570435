"""The compiled first check never vouches for an event marshmallow would refuse."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.events.fast_validation import surely_valid
from shared.events.schemas import DATA_SCHEMAS, validation_errors
from tests.support import make_event

#: the types Kundoluk sends most, which the compiled check must cover (else no speed-up)
COVERED = ("mark.recorded", "lesson.recorded", "attendance.recorded", "lesson.deleted",
           "mark.deleted", "class.roster", "journal.visits", "personal_data.verified")

awkward_strings = st.sampled_from([
    "", " ", "a" * 64, "a" * 65, "x" * 201, "has space", "ид", "evt_1\n", "2026-09-02",
    "2026-02-30", "2026-9-2", "2026-09-02T11:05:13", "2026-09-02T11:05:13+06:00",
    "2026-09-02T25:05:13+06:00", "2026-09-02 11:05:13Z", "*", "quarter", "year", "current",
    "oral", "illness", "mark.recorded", "finding.opened", "5", "1.0", "true",
])
values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 20), st.sampled_from([1.0, 0.5, 2**63, -1]),
    awkward_strings, st.text(max_size=8), st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["student_id", "reason", "x"]), awkward_strings,
                    max_size=2),
)


@pytest.mark.parametrize("event_type", COVERED)
def test_valid_samples_of_the_common_types_are_vouched_for(event_type: str) -> None:
    assert surely_valid(make_event(event_type))


@pytest.mark.parametrize("event_type", sorted(DATA_SCHEMAS))
def test_every_sample_agrees(event_type: str) -> None:
    event = make_event(event_type)
    assert not surely_valid(event) or validation_errors(event) == {}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(make_event(draw(st.sampled_from(sorted(DATA_SCHEMAS)))))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(event)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = event
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
    if draw(st.booleans()) and isinstance(event.get("data"), dict):
        event["data"][draw(st.sampled_from(["kind", "term_id", "absent", "date", "from"]))] = \
            draw(values)
    return event


@settings(max_examples=1500, deadline=None)
@given(mutated_events())
def test_a_vouched_event_has_no_marshmallow_error(event: dict[str, Any]) -> None:
    if surely_valid(event):
        assert validation_errors(event) == {}, event
