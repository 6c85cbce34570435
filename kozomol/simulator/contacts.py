"""Contacts, message languages and consent of the simulated people.

Derived from a hash of the person's ids, not from the school's random
generator, so adding them left every other generated event unchanged: same
seed, same school, same activity as before.
"""

from __future__ import annotations

import hashlib
from typing import Any

KYRGYZ_LETTERS = frozenset("ңөүҢӨҮ")


def _share(*parts: str) -> float:
    """A stable number in [0, 1) for these ids."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _chat_id(*parts: str) -> str:
    return str(100_000_000 + int(_share("chat", *parts) * 899_999_999))


def _language(full_name: str, *parts: str) -> str:
    """Kyrgyz-named people more often prefer Kyrgyz messages."""
    kyrgyz_name = bool(KYRGYZ_LETTERS & set(full_name)) or full_name.split()[-1:] in (
        ["уулу"], ["кызы"])
    return "ky" if _share("lang", *parts) < (0.6 if kyrgyz_name else 0.1) else "ru"


def teacher_contacts(school_id: str, teacher_id: str, full_name: str, *,
                     deputy: bool) -> dict[str, Any]:
    """Every teacher has a work e-mail; most have Telegram; the deputy director is marked."""
    contacts: dict[str, Any] = {
        "email": f"{teacher_id.lower()}@{school_id.lower()}.edu.kg",
        "telegram_chat_id": _chat_id(school_id, teacher_id)
        if _share("tg", school_id, teacher_id) < 0.7 else None,
        "preferred_language": _language(full_name, school_id, teacher_id),
        "notifications": True,
    }
    if deputy:
        contacts["roles"] = ["deputy_director"]
    return contacts


def parent_contacts(school_id: str, student_id: str, index: int,
                    full_name: str) -> dict[str, Any]:
    """About 70 % of parents opted in; some by e-mail, most by Telegram."""
    key = (school_id, student_id, str(index))
    return {
        "parent_id": f"{student_id}-p{index + 1}",
        "email": f"{student_id.lower()}.p{index + 1}@mail.kg"
        if _share("mail", *key) < 0.4 else None,
        "telegram_chat_id": _chat_id(*key) if _share("tg", *key) < 0.7 else None,
        "preferred_language": _language(full_name, *key),
        "notifications": _share("consent", *key) < 0.7,
    }


def deputy_director(teacher_ids: list[str]) -> str | None:
    """The simulated school's deputy director: the first teacher by id (who also teaches)."""
    return min(teacher_ids) if teacher_ids else None
