"""Reading a webhook body: single or batch, valid or rejected items."""

from __future__ import annotations

import orjson
import pytest

from services.gateway.domain.intake import BodyError, parse_delivery
from tests.support import make_event


def test_single_event() -> None:
    event = make_event()
    parsed = parse_delivery(orjson.dumps(event), max_events=1000)
    assert not parsed.is_batch
    assert parsed.valid == [event]
    assert parsed.rejected == []


def test_batch_splits_valid_and_rejected_with_index_and_id() -> None:
    good, bad = make_event(), make_event(value=5)
    parsed = parse_delivery(orjson.dumps({"events": [good, bad, "nonsense"]}), max_events=10)
    assert parsed.is_batch
    assert parsed.valid == [good]
    assert [(r.index, r.id) for r in parsed.rejected] == [(1, bad["id"]), (2, None)]
    assert "value" in parsed.rejected[0].errors["data"]


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"\xff\xfe", 400, "not_utf8"),
    (b"{not json", 400, "malformed_json"),
    (b"", 400, "malformed_json"),
    (b"[1, 2]", 422, "invalid_body"),
    (b'"text"', 422, "invalid_body"),
    (b'{"events": []}', 422, "invalid_batch"),
    (b'{"events": {"a": 1}}', 422, "invalid_batch"),
])
def test_bodies_refused_as_a_whole(body: bytes, status: int, code: str) -> None:
    with pytest.raises(BodyError) as caught:
        parse_delivery(body, max_events=10)
    assert (caught.value.status, caught.value.code) == (status, code)


def test_too_many_events_is_413() -> None:
    body = orjson.dumps({"events": [make_event() for _ in range(11)]})
    with pytest.raises(BodyError) as caught:
        parse_delivery(body, max_events=10)
    assert caught.value.status == 413
