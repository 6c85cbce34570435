"""What the gateway accepts as a print job, and whose view it is printed for (pure)."""

from __future__ import annotations

from services.gateway.domain.access import Principal, Role
from services.gateway.domain.print_requests import MAY_PRINT, print_request_errors, print_scope


def test_valid_print_jobs_pass() -> None:
    for body in ({"kind": "class_journal", "parameters": {"class_id": "5a"}},
                 {"kind": "class_journal", "parameters": {"class_id": "5a", "term_id": "q1"}},
                 {"kind": "class_journal", "parameters": {"class_id": "5a", "year": "2026-2027"}},
                 {"kind": "student_report", "parameters": {"student_id": "s1", "term_id": "q1"}},
                 {"kind": "final_statement", "parameters": {"class_id": "5a"},
                  "school_id": "sch1"},
                 {"kind": "report", "parameters": {"report_id": "rep-1"}}):
        assert print_request_errors(body) == {}, body


def test_invalid_print_jobs_name_the_field() -> None:
    assert print_request_errors([]) == {"_schema": ["expected {kind, parameters, school_id}"]}
    assert print_request_errors({"kind": "x", "parameters": {}}).keys() == {"kind"}
    assert print_request_errors({"kind": "report", "parameters": {}, "copies": 2}) == {
        "copies": ["unknown field"]}
    assert print_request_errors({"kind": "report", "parameters": "rep-1"}) == {
        "parameters": {"_schema": ["must be an object"]}}
    assert print_request_errors({"kind": "student_report",
                                 "parameters": {"student_id": "s 1"}}) == {"parameters": {
        "term_id": ["is required"],
        "student_id": ["must be an id: 1-64 characters of A-Z a-z 0-9 _ . : -"]}}
    both = print_request_errors({"kind": "class_journal", "parameters": {
        "class_id": "5a", "term_id": "q1", "year": "2026-2027"}})
    assert both == {"parameters": {"_schema": ["give term_id or year, not both"]}}
    assert print_request_errors({"kind": "class_journal", "parameters": {
        "class_id": "5a", "year": "26/27"}}) == {
        "parameters": {"year": ["must look like 2026-2027"]}}


def test_who_may_print_what_and_for_whom() -> None:
    assert MAY_PRINT[Role.TEACHER] == {"report"}
    assert Role.AUDITOR not in MAY_PRINT
    teacher = Principal("t1", Role.CLASS_TEACHER, "sch1", teacher_id="tch-7")
    assert print_scope(teacher) == {"role": "class_teacher", "teacher_id": "tch-7"}
    assert print_scope(Principal("d1", Role.DEPUTY, "sch1")) is None
