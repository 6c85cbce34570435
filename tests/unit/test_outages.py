"""Which failures hold a consumer's deliveries (an outage) and which count against the message."""

from __future__ import annotations

import errno

import pytest
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from shared.messaging.outages import DependencyUnavailable, is_outage


def db_error(kind: type[Exception]) -> Exception:
    return kind("INSERT …", {}, Exception("driver said no"))


@pytest.mark.parametrize("exc", [
    db_error(OperationalError),  # refused, lost, shutting down, too many clients
    DependencyUnavailable("file store away"),
    ConnectionRefusedError(),
    TimeoutError(),
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EIO, "Input/output error"),
    OSError(errno.EROFS, "Read-only file system"),
])
def test_the_dependency_being_away_is_an_outage(exc: Exception) -> None:
    assert is_outage(exc)


@pytest.mark.parametrize("exc", [
    db_error(IntegrityError), db_error(DataError), db_error(ProgrammingError),
    ValueError("bad mark"), KeyError("student_id"), RuntimeError("handler bug"),
    OSError(errno.ENOENT, "No such file"), OSError(errno.EACCES, "Permission denied"),
])
def test_a_failure_of_the_message_itself_is_not(exc: Exception) -> None:
    assert not is_outage(exc)


def test_an_outage_wrapped_by_a_handler_is_still_seen() -> None:
    try:
        try:
            raise db_error(OperationalError)
        except OperationalError as inner:
            raise RuntimeError("could not store the journal entry") from inner
    except RuntimeError as outer:
        assert is_outage(outer)
