"""Group commit: each request gets its own result, groups form under load, turns never overlap."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from services.gateway.handlers.group_commit import GroupCommit


def test_concurrent_requests_share_writes_and_each_gets_its_own_result() -> None:
    groups: list[list[int]] = []
    in_turn: dict[int, int] = {0: 0, 1: 0}
    overlap = threading.Event()
    lock = threading.Lock()

    def write(turn: int, items: Sequence[int]) -> list[int]:
        with lock:
            in_turn[turn] += 1
            if in_turn[turn] > 1:
                overlap.set()
            groups.append(list(items))
        time.sleep(0.005)  # a commit, a confirm round trip
        with lock:
            in_turn[turn] -= 1
        return [item * 10 for item in items]

    commit: GroupCommit[int, int] = GroupCommit(write, size=lambda _item: 1, max_size=20,
                                                writers=2)
    results: dict[int, int] = {}

    def request(item: int) -> None:
        results[item] = commit.submit(item)

    threads = [threading.Thread(target=request, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {n: n * 10 for n in range(200)}
    written = sorted(item for group in groups for item in group)
    assert written == list(range(200))  # each request written once
    assert max(len(group) for group in groups) > 1  # they did share writes
    assert max(len(group) for group in groups) <= 20
    assert not overlap.is_set()  # a turn is held by one writer at a time


def test_a_request_alone_is_written_at_once() -> None:
    commit: GroupCommit[str, str] = GroupCommit(lambda _turn, items: [i.upper() for i in items],
                                                size=len, max_size=10)
    assert commit.submit("a") == "A"
    assert commit.submit("bb") == "BB"


def test_a_failed_write_fails_every_request_of_its_group_and_the_next_one_works() -> None:
    release = threading.Event()
    started = threading.Event()
    calls: list[list[str]] = []

    def write(_turn: int, items: Sequence[str]) -> list[str]:
        calls.append(list(items))
        if items[0] == "first":
            started.set()
            release.wait(10)
            return ["ok"]
        if "bad" in items:
            raise RuntimeError("the database refused")
        return ["ok"] * len(items)

    commit: GroupCommit[str, str] = GroupCommit(write, size=lambda _item: 1, max_size=10,
                                                writers=1)
    outcomes: dict[str, str] = {}

    def request(item: str) -> None:
        try:
            outcomes[item] = commit.submit(item)
        except RuntimeError as exc:
            outcomes[item] = str(exc)

    first = threading.Thread(target=request, args=("first",))
    first.start()
    assert started.wait(10)
    waiting = [threading.Thread(target=request, args=(item,)) for item in ("bad", "x", "y")]
    for thread in waiting:
        thread.start()
    deadline = time.monotonic() + 10
    while len(commit._waiting) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    for thread in [first, *waiting]:
        thread.join(10)
    assert outcomes == {"first": "ok", "bad": "the database refused",
                        "x": "the database refused", "y": "the database refused"}
    assert sorted(calls[1]) == ["bad", "x", "y"]  # the three waited and were one group
    assert commit.submit("after") == "ok"  # the turn was handed back


@pytest.mark.parametrize("writers", [1, 3])
def test_an_oversized_request_is_written_alone(writers: int) -> None:
    groups: list[list[int]] = []

    def write(_turn: int, items: Sequence[int]) -> list[None]:
        groups.append(list(items))
        time.sleep(0.002)
        return [None] * len(items)

    commit: GroupCommit[int, None] = GroupCommit(write, size=lambda item: item, max_size=100,
                                                 writers=writers)
    threads = [threading.Thread(target=commit.submit, args=(size,))
               for size in (150, 60, 60, 30, 150, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(size for group in groups for size in group) == [10, 30, 60, 60, 150, 150]
    for group in groups:
        assert len(group) == 1 or sum(group) <= 100
