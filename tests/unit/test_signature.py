"""Standard Webhooks verification: one test per failure mode, and rotation."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from services.gateway.domain.signature import SignatureError, secret_key, sign, verify
from shared.settings import new_webhook_secret

NOW = 1_790_000_000
BODY = b'{"id":"evt_1","type":"x.y"}'


def headers(secret: str, *, body: bytes = BODY, timestamp: int = NOW,
            webhook_id: str = "msg_1") -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret_key(secret), webhook_id, timestamp, body)}


def test_accepts_a_valid_signature_and_returns_the_delivery_id() -> None:
    secret = new_webhook_secret()
    assert verify([secret_key(secret)], headers(secret), BODY, now=NOW) == "msg_1"


def test_accepts_what_the_reference_library_signs() -> None:
    """The standardwebhooks reference implementation is an independent signer."""
    secret = new_webhook_secret()
    reference = Webhook(secret).sign("msg_ref", datetime.fromtimestamp(NOW, UTC), BODY.decode())
    sent = {"webhook-id": "msg_ref", "webhook-timestamp": str(NOW),
            "webhook-signature": reference}
    assert verify([secret_key(secret)], sent, BODY, now=NOW) == "msg_ref"


def test_rotation_any_active_secret_and_any_listed_signature_counts() -> None:
    old, new = new_webhook_secret(), new_webhook_secret()
    signed_with_new = headers(new)
    both = {**signed_with_new, "webhook-signature":
            headers(old)["webhook-signature"] + " " + signed_with_new["webhook-signature"]}
    keys = [secret_key(old), secret_key(new)]
    assert verify(keys, signed_with_new, BODY, now=NOW)
    assert verify(keys, both, BODY, now=NOW)
    assert verify([secret_key(new)], both, BODY, now=NOW)  # old secret retired


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(missing: str) -> None:
    secret = new_webhook_secret()
    sent = headers(secret)
    del sent[missing]
    with pytest.raises(SignatureError) as caught:
        verify([secret_key(secret)], sent, BODY, now=NOW)
    assert caught.value.code == "missing_signature_headers"
    assert missing in caught.value.message


@pytest.mark.parametrize("skew", [301, -301, 10_000])
def test_timestamp_outside_five_minutes(skew: int) -> None:
    secret = new_webhook_secret()
    with pytest.raises(SignatureError) as caught:
        verify([secret_key(secret)], headers(secret, timestamp=NOW - skew), BODY, now=NOW)
    assert caught.value.code == "stale_timestamp"


@pytest.mark.parametrize("skew", [300, -300, 0])
def test_timestamp_at_the_edge_of_the_window(skew: int) -> None:
    secret = new_webhook_secret()
    assert verify([secret_key(secret)], headers(secret, timestamp=NOW - skew), BODY, now=NOW)


def test_timestamp_not_a_number() -> None:
    secret = new_webhook_secret()
    sent = {**headers(secret), "webhook-timestamp": "yesterday"}
    with pytest.raises(SignatureError) as caught:
        verify([secret_key(secret)], sent, BODY, now=NOW)
    assert caught.value.code == "invalid_signature_headers"


@pytest.mark.parametrize("signature", [
    "garbage", "v1,", "v1,!!!notbase64", "v2,abc", ",,,", "v1", " ", "v1,AAAA v1,%%%",
])
def test_malformed_signature_header_is_a_verification_failure(signature: str) -> None:
    secret = new_webhook_secret()
    sent = {**headers(secret), "webhook-signature": signature}
    with pytest.raises(SignatureError) as caught:
        verify([secret_key(secret)], sent, BODY, now=NOW)
    assert caught.value.code in {"invalid_signature", "missing_signature_headers"}


def test_a_changed_body_or_id_or_timestamp_breaks_the_signature() -> None:
    secret = new_webhook_secret()
    keys = [secret_key(secret)]
    sent = headers(secret)
    for changed_headers, body in (
        (sent, BODY + b" "),
        ({**sent, "webhook-id": "msg_2"}, BODY),
        ({**sent, "webhook-timestamp": str(NOW + 1)}, BODY),
    ):
        with pytest.raises(SignatureError) as caught:
            verify(keys, changed_headers, body, now=NOW)
        assert caught.value.code == "invalid_signature"


def test_a_signature_made_with_an_unknown_secret_fails() -> None:
    with pytest.raises(SignatureError):
        verify([secret_key(new_webhook_secret())], headers(new_webhook_secret()), BODY, now=NOW)


def test_verifies_raw_bytes_even_when_they_are_not_utf8() -> None:
    secret = new_webhook_secret()
    body = b"\xff\xfe not utf-8"
    assert verify([secret_key(secret)], headers(secret, body=body), body, now=NOW)


def test_secret_key_decodes_the_whsec_form() -> None:
    key = bytes(range(32))
    assert secret_key("whsec_" + base64.b64encode(key).decode()) == key


@pytest.mark.parametrize("text", [f"+{NOW}", f"0{NOW}", f"{NOW:_}", f" {NOW}", f"{NOW} ",
                                  f"{NOW}.0", "١٢٣", f"-{NOW}"])
def test_timestamp_in_any_form_but_plain_unix_seconds_is_refused(text: str) -> None:
    """Issue 14, item 8: int() took these; Standard Webhooks sends plain digits."""
    import base64
    import hashlib
    import hmac

    secret = new_webhook_secret()
    digest = hmac.new(secret_key(secret), f"msg_1.{text}.".encode() + BODY,
                      hashlib.sha256).digest()  # signed over exactly this text
    sent = {"webhook-id": "msg_1", "webhook-timestamp": text,
            "webhook-signature": "v1," + base64.b64encode(digest).decode()}
    with pytest.raises(SignatureError) as caught:
        verify([secret_key(secret)], sent, BODY, now=NOW)
    assert caught.value.code == "invalid_signature_headers"
