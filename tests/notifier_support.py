"""Real servers on this machine for the notifier's channels: an SMTP server (aiosmtpd)
and HTTP servers standing in for a webhook receiver and Telegram's Bot API."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """An SMTP server that keeps every message it accepted; ``stop``/``start`` take it
    down and bring it back on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        #: called with the RCPT address before it is accepted (a test may kill a client here)
        self.on_rcpt: Callable[[str], None] | None = None
        self._controller: Controller | None = None

    async def handle_RCPT(self, server: Any, session: Any,  # noqa: N802 (aiosmtpd's names)
                          envelope: Any, address: str, rcpt_options: Any) -> str:
        if self.on_rcpt is not None:
            self.on_rcpt(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any,  # noqa: N802
                          envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n").strip()


@dataclass
class HttpSink:
    """An HTTP server recording every POST; answers ``status`` with ``reply`` as JSON."""

    status: int = 200
    reply: dict[str, Any] = field(default_factory=lambda: {"ok": True})
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                sink.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()},
                                      body))
                answer = json.dumps(sink.reply).encode()
                self.send_response(sink.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def telegram_stand_in() -> HttpSink:
    """Telegram's Bot API as far as sendMessage goes (what Apprise calls)."""
    return HttpSink(reply={"ok": True, "result": {"message_id": 1, "chat": {"id": 1}}})
