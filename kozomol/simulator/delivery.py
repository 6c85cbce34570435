"""Delivering simulated events as Kundoluk would: signed webhooks, or a file to replay.

Order and repetition are knobs: in time order or shuffled within a window,
with a share of events delivered twice (a later delivery of the same event id,
as after a timeout on the sender's side). Everything streams: memory stays
bounded by the shuffle window and the batch, whatever the number of events.
"""

from __future__ import annotations

import gzip
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import orjson

from kozomol.webhook_client import signed_headers

MAX_BODY_BYTES = 1024 * 1024 - 1024   # stay under the gateway's 1 MiB with room to spare
RETRYABLE = {429, 500, 502, 503, 504}


def arrange(events: Iterable[dict[str, Any]], *, seed: int, shuffle_window: int = 0,
            duplicate_share: float = 0.0) -> Iterator[dict[str, Any]]:
    """Events in the order they are to be delivered.

    ``shuffle_window`` > 1 delivers each event at a random place among that many
    neighbours; ``duplicate_share`` of the events are delivered once more, a
    little later.
    """
    rng = random.Random(f"delivery:{seed}")
    pending_copies: list[tuple[int, dict[str, Any]]] = []
    window: list[dict[str, Any]] = []
    position = 0

    def with_copies(event: dict[str, Any]) -> Iterator[dict[str, Any]]:
        nonlocal position
        position += 1
        yield event
        if duplicate_share and rng.random() < duplicate_share:
            pending_copies.append((position + rng.randint(1, 500), event))
        while pending_copies and pending_copies[0][0] <= position:
            yield pending_copies.pop(0)[1]

    for event in events:
        if shuffle_window > 1:
            window.append(event)
            if len(window) >= shuffle_window:
                yield from with_copies(window.pop(rng.randrange(len(window))))
        else:
            yield from with_copies(event)
    rng.shuffle(window)
    for event in window:
        yield from with_copies(event)
    for _, event in pending_copies:
        yield event


def batches(events: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Groups of at most ``size`` events whose batch body stays under 1 MiB."""
    batch: list[dict[str, Any]] = []
    length = 0
    for event in events:
        encoded = len(orjson.dumps(event)) + 1
        if batch and (len(batch) >= size or length + encoded > MAX_BODY_BYTES):
            yield batch
            batch, length = [], 0
        batch.append(event)
        length += encoded
    if batch:
        yield batch


@dataclass
class DeliveryReport:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    requests: int = 0
    retries: int = 0
    failures: list[str] = field(default_factory=list)


class Progress:
    """A one-line progress display on stderr, refreshed at most twice a second."""

    def __init__(self, label: str, total: int | None = None,
                 stream: IO[str] | None = None) -> None:
        self.label, self.total, self.count = label, total, 0
        self.stream = stream or sys.stderr
        self.started = self._shown = time.monotonic()

    def advance(self, count: int) -> None:
        self.count += count
        if time.monotonic() - self._shown >= 0.5:
            self.show()

    def show(self, end: str = "\r") -> None:
        self._shown = time.monotonic()
        rate = self.count / max(1e-6, self._shown - self.started)
        if self.total:
            share = min(1.0, self.count / self.total)
            bar = "#" * int(share * 30)
            text = f"{self.label} [{bar:<30}] {self.count:,}/{self.total:,} ({rate:,.0f}/s)"
        else:
            text = f"{self.label} {self.count:,} ({rate:,.0f}/s)"
        self.stream.write(text + end)
        self.stream.flush()

    def close(self) -> None:
        self.show(end="\n")


def send(events: Iterable[dict[str, Any]], url: str, secrets: Sequence[str], *,
         batch_size: int = 100, client: httpx.Client | None = None,
         on_progress: Callable[[int], None] | None = None,
         max_attempts: int = 8) -> DeliveryReport:
    """POST the events (single when ``batch_size`` is 1) and add up the answers."""
    report = DeliveryReport()
    own_client = client is None
    http = client or httpx.Client(timeout=60)
    try:
        for group in batches(events, batch_size):
            body = orjson.dumps(group[0] if batch_size == 1 else {"events": group})
            answer = _post(http, url, secrets, body, report=report, max_attempts=max_attempts)
            report.sent += len(group)
            if answer is not None:
                report.accepted += int(answer.get("accepted", 0))
                report.duplicates += int(answer.get("duplicates", 0))
                report.rejected += len(answer.get("rejected", []))
            if on_progress is not None:
                on_progress(len(group))
    finally:
        if own_client:
            http.close()
    return report


def _post(http: httpx.Client, url: str, secrets: Sequence[str], body: bytes, *,
          report: DeliveryReport, max_attempts: int) -> dict[str, Any] | None:
    """One delivery, retried with backoff while the gateway asks to retry or is unreachable."""
    for attempt in range(1, max_attempts + 1):
        report.requests += 1
        try:
            # Signed anew for every attempt: the timestamp must stay within 5 minutes.
            response = http.post(url, content=body, headers=signed_headers(secrets, body))
        except httpx.TransportError as exc:
            problem = f"transport error: {exc.__class__.__name__}"
        else:
            if response.status_code == 202:
                answer: dict[str, Any] = response.json()
                return answer
            if response.status_code == 422:  # a single event refused: it is in quarantine
                return {"accepted": 0, "duplicates": 0, "rejected": [response.json()]}
            problem = f"HTTP {response.status_code}: {response.text[:200]}"
            if response.status_code not in RETRYABLE:
                report.failures.append(problem)
                return None
        if attempt < max_attempts:
            report.retries += 1
            time.sleep(min(10.0, 0.2 * 2 ** attempt))
    report.failures.append(problem)
    return None


def write_jsonl(events: Iterable[dict[str, Any]], path: Path,
                on_progress: Callable[[int], None] | None = None) -> int:
    """Write events one per line (gzip when the name ends in .gz); returns the count."""
    opener = gzip.open if path.suffix == ".gz" else open
    written = 0
    with opener(path, "wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event) + b"\n")
            written += 1
            if on_progress is not None and written % 1000 == 0:
                on_progress(1000)
    return written


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield orjson.loads(line)
