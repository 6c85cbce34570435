"""Telling an outage of what a consumer depends on from a failure of the message itself.

A consumer whose database (or file store) is away must hold its deliveries and
try again until it is back: requeueing them would count each attempt towards
the quorum queue's ``x-delivery-limit`` and turn good events into dead letters
(issue 19). Only a failure that the message itself causes may count.
"""

from __future__ import annotations

import errno

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class DependencyUnavailable(RuntimeError):
    """Raised by a handler when something it needs (not the message) is away."""


#: OS errors that say the storage is away or full, not that the message is wrong.
_STORAGE_ERRNOS = frozenset({errno.EIO, errno.ENOSPC, errno.EROFS, errno.EDQUOT,
                             errno.ENOTCONN, errno.ESTALE})


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or anything it was raised from) means a dependency is away."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, DependencyUnavailable | PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        # OperationalError: connection refused or lost, server shutting down, too many
        # connections, serialisation and deadlock failures - all pass with time.
        # DataError / IntegrityError / ProgrammingError are the message's own fault.
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    return isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS
