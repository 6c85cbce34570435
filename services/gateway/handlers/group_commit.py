"""Group commit: deliveries that arrive while others are being written share the next write.

One confirm round trip and one database commit per request cap a gunicorn
thread at a few hundred requests a second, and every request on its own
connection and transaction costs the broker and PostgreSQL the most CPU
(issue 22). Here the request threads themselves take turns as *writers*
(leader/follower, no thread of its own to start or stop): at most ``writers``
groups are written at a time; a request that finds every writer busy waits,
and the writer that finishes hands its turn to the oldest waiting request,
which takes everything that waits (up to ``max_size``) as its group. So under
load many requests share one transaction and one window of confirms, and each
is answered only when the write of its own group is done; alone, a request is
written at once, as before.

The writer turns are numbered (``0 .. writers - 1``) so the caller can keep one
broker connection per turn: a turn is held by one thread at a time.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Item, Result]):
    __slots__ = ("error", "finished", "item", "result", "size", "turn", "wake")

    def __init__(self, item: Item, size: int) -> None:
        self.item, self.size = item, size
        self.result: Result | None = None
        self.error: BaseException | None = None
        self.finished = False
        self.turn: int | None = None  # set when this request is to write a group
        self.wake = threading.Lock()  # held until the slot is finished or given a turn
        self.wake.acquire()


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        write: Callable[[int, Sequence[Item]], Sequence[Result]],
        *,
        size: Callable[[Item], int],
        max_size: int,
        writers: int = 2,
    ) -> None:
        """``write(turn, items)`` writes a group and returns one result per item (in
        order); if it raises, every request of the group raises the same exception."""
        self._write = write
        self._size = size
        self._max_size = max_size
        self._mutex = threading.Lock()
        self._waiting: deque[_Slot[Item, Result]] = deque()
        self._free_turns = list(range(writers))

    def submit(self, item: Item) -> Result:
        slot: _Slot[Item, Result] = _Slot(item, self._size(item))
        with self._mutex:
            if self._free_turns:
                slot.turn = self._free_turns.pop()
            else:
                self._waiting.append(slot)
        if slot.turn is None:
            slot.wake.acquire()  # finished by another writer, or handed a turn
        if not slot.finished:
            self._lead(slot)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _lead(self, slot: _Slot[Item, Result]) -> None:
        turn = slot.turn
        assert turn is not None
        group, total = [slot], slot.size
        with self._mutex:
            while self._waiting and total + self._waiting[0].size <= self._max_size:
                joined = self._waiting.popleft()
                group.append(joined)
                total += joined.size
        try:
            results = self._write(turn, [member.item for member in group])
            for member, result in zip(group, results, strict=True):
                member.result = result
        except BaseException as exc:  # every member answers with it, the writer too
            for member in group:
                member.error = exc
        finally:
            with self._mutex:
                for member in group:
                    member.finished = True
                successor = self._waiting.popleft() if self._waiting else None
                if successor is not None:
                    successor.turn = turn
                else:
                    self._free_turns.append(turn)
            for member in group[1:]:
                member.wake.release()
            if successor is not None:
                successor.wake.release()
