"""A TCP proxy a test controls: pass bytes through, or cut like a server that went away.

``cut()`` closes the listening socket and every open connection, so clients see
what a stopped PostgreSQL (or broker) looks like from outside: open sessions
reset, new connections refused. ``restore()`` listens on the same port again.
Lets a test take *its own* database away without touching the shared server.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from types import TracebackType


class CutProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener: socket.socket | None = self._listen(0)
        self.port = int(self._listener.getsockname()[1]) if self._listener else 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._accepting = threading.Thread(target=self._accept_loop, name="cut-proxy",
                                           daemon=True)
        self._accepting.start()

    # --- control -----------------------------------------------------------------
    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = self._listen(self.port)

    def close(self) -> None:
        self._stopped.set()
        self.cut()
        self._accepting.join(5)

    def __enter__(self) -> CutProxy:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # --- plumbing ----------------------------------------------------------------
    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(0.1)
        return listener

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            listener = self._listener
            if listener is None:
                self._stopped.wait(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                if self._listener is None:  # cut while we connected
                    client.close()
                    server.close()
                    continue
                self._open.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select(timeout=1.0):
                        readable = key.fileobj
                        assert isinstance(readable, socket.socket)
                        data = readable.recv(65536)
                        if not data:
                            return
                        peers[readable].sendall(data)
                    if self._stopped.is_set():
                        return
            except (OSError, ValueError):
                return
            finally:
                with self._lock:
                    self._open.discard(client)
                    self._open.discard(server)
                for sock in peers:
                    sock.close()
