"""The journal record's hash chain detects any later change."""

from __future__ import annotations

from services.backup.domain.journal import GENESIS, canonical, chain_hash, first_break


def build(bodies: list[bytes]) -> list[tuple[int, bytes, str, str]]:
    entries, previous = [], GENESIS
    for seq, body in enumerate(bodies, start=1):
        entry_hash = chain_hash(previous, body)
        entries.append((seq, body, previous, entry_hash))
        previous = entry_hash
    return entries


def test_an_intact_chain_has_no_break() -> None:
    assert first_break(build([b"a", b"b", b"c"])) is None
    assert first_break([]) is None


def test_a_changed_body_is_found() -> None:
    entries = build([b"a", b"b", b"c"])
    seq, _, prev, entry_hash = entries[1]
    entries[1] = (seq, b"B", prev, entry_hash)
    assert first_break(entries) == 2


def test_a_removed_entry_is_found() -> None:
    entries = build([b"a", b"b", b"c"])
    del entries[1]
    assert first_break(entries) == 3


def test_a_rehashed_entry_still_breaks_the_next_link() -> None:
    entries = build([b"a", b"b", b"c"])
    seq, _, prev, _ = entries[1]
    entries[1] = (seq, b"B", prev, chain_hash(prev, b"B"))
    assert first_break(entries) == 3


def test_canonical_form_ignores_key_order() -> None:
    assert canonical({"b": 1, "a": {"y": 2, "x": 1}}) == canonical({"a": {"x": 1, "y": 2}, "b": 1})
