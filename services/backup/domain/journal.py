"""The journal record's hash chain (pure).

Each entry's hash covers the previous entry's hash and the entry's canonical
bytes, so changing, removing or reordering any stored entry breaks every hash
after it, and :func:`first_break` finds where.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson

GENESIS = "0" * 64


def canonical(envelope: dict[str, Any]) -> bytes:
    """The bytes an entry's hash covers: sorted keys, no whitespace."""
    return orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS)


def chain_hash(previous: str, body: bytes) -> str:
    return hashlib.sha256(previous.encode("ascii") + b"\n" + body).hexdigest()


def first_break(entries: Iterable[tuple[int, bytes, str, str]]) -> int | None:
    """Sequence number of the first entry whose chain does not hold, or None.

    ``entries`` are ``(seq, body, prev_hash, hash)`` in sequence order.
    """
    previous = GENESIS
    for seq, body, prev_hash, entry_hash in entries:
        if prev_hash != previous or chain_hash(previous, body) != entry_hash:
            return seq
        previous = entry_hash
    return None
