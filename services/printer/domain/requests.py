"""Which print jobs the printer takes, and for whom (pure).

The kinds and their parameters have one definition, shared with the gateway
(``shared/events/print_kinds.py``). Who may print what is checked twice on
purpose: the gateway refuses early by role, and the printer — which alone
knows each class's homeroom teacher from its copy of the journal — refuses
what a request's scope does not cover, whoever sent it.
"""

from __future__ import annotations

from typing import Any

from shared.events import print_kinds


def parameter_errors(kind: object, parameters: object) -> dict[str, str]:
    """What is wrong with a print job's kind and parameters (empty: nothing)."""
    if errors := print_kinds.kind_errors(kind):
        return {"kind": "; ".join(errors)}
    if not isinstance(parameters, dict):
        return {"parameters": "must be an object"}
    return {name: "; ".join(messages)
            for name, messages in print_kinds.parameter_errors(str(kind), parameters).items()}


def kind_refusal(kind: str, scope: dict[str, Any] | None) -> str | None:
    """Why a scoped requester may not print this kind at all (None: they may)."""
    role = (scope or {}).get("role")
    if role == "teacher" and kind != "report":
        return "нет доступа: учитель может печатать только свои отчёты"
    if role == "class_teacher" and kind == "class_journals":
        return "нет доступа: журналы всех классов печатает администрация"
    return None


def class_refusal(roster: dict[str, Any] | None, scope: dict[str, Any] | None) -> str | None:
    """Why this class's documents are not the requester's (None: they are): a class
    teacher prints only the documents of the class they lead."""
    if (scope or {}).get("role") == "class_teacher" and (roster or {}).get(
            "homeroom_teacher_id") != (scope or {}).get("teacher_id"):
        return "нет доступа: это не класс этого классного руководителя"
    return None
