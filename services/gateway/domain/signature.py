"""Standard Webhooks signature verification over the raw request bytes (pure).

Signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature
header lists ``v1,<base64 HMAC-SHA256>`` entries separated by spaces, so a
sender can sign with the old and the new secret while rotating. Any malformed
header is a verification failure (401), never a crash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
MAX_WEBHOOK_ID_LENGTH = 256
TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,15}")


@dataclass(frozen=True)
class SignatureError(Exception):
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature (what Kundoluk, or the simulator, sends)."""
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(
    keys: Sequence[bytes],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_seconds: int = 300,
) -> str:
    """Check the signature of a delivery; returns its ``webhook-id``.

    Raises :class:`SignatureError` with a stable ``code`` for each failure mode.
    """
    webhook_id = headers.get("webhook-id", "")
    timestamp_text = headers.get("webhook-timestamp", "")
    signature_header = headers.get("webhook-signature", "")
    missing = [name for name, value in (("webhook-id", webhook_id),
                                        ("webhook-timestamp", timestamp_text),
                                        ("webhook-signature", signature_header)) if not value]
    if missing:
        raise SignatureError("missing_signature_headers",
                             "missing header(s): " + ", ".join(missing))
    if len(webhook_id) > MAX_WEBHOOK_ID_LENGTH:
        raise SignatureError("invalid_signature_headers", "webhook-id is too long")
    # Standard Webhooks: Unix seconds as plain ASCII digits. int() would also take
    # "+N", "0N", "1_796_148_437", spaces and non-ASCII digits.
    if not TIMESTAMP.fullmatch(timestamp_text):
        raise SignatureError(
            "invalid_signature_headers", "webhook-timestamp must be Unix seconds"
        )
    timestamp = int(timestamp_text)
    if abs(now - timestamp) > tolerance_seconds:
        raise SignatureError(
            "stale_timestamp",
            f"webhook-timestamp is more than {tolerance_seconds} s away from the receiver's clock",
        )
    candidates = list(_signatures(signature_header))
    signed = f"{webhook_id}.{timestamp_text}.".encode() + body
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        # Compare against every candidate, so timing reveals nothing about which matched.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
        if matched:
            return webhook_id
    raise SignatureError("invalid_signature", "no signature matches an active secret")


def _signatures(header: str) -> list[bytes]:
    found = []
    for entry in header.split(" "):
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
