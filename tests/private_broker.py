"""RabbitMQ nodes of a test's own: started, stopped, killed and alarmed without touching
the machine's shared broker (other engineers' tests use it).

Each node has its own name, AMQP and distribution ports, data and log folders
under a scratch directory, no plugins, and the machine's Erlang cookie copied
into a home of its own (so ``rabbitmqctl`` reaches it, and nodes can cluster).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

RABBITMQ_SBIN = next(iter(sorted(Path("/usr/lib/rabbitmq/lib").glob("rabbitmq_server-*/sbin"))),
                     Path("/usr/lib/rabbitmq/bin"))
SYSTEM_COOKIE = Path("/var/lib/rabbitmq/.erlang.cookie")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port_pair(start: int = 5700, stop: int = 5999) -> tuple[int, int]:
    """An AMQP port and a distribution port (port + 100), both free.

    Below the ephemeral range on purpose: a port there can be taken by an
    outgoing connection between our check and the node's bind.
    """
    for port in range(start, stop - 100):
        if port_is_free(port) and port_is_free(port + 100):
            return port, port + 100
    raise RuntimeError("no free port pair for a private RabbitMQ node")


class BrokerNode:
    def __init__(self, root: Path, name: str, port: int | None = None) -> None:
        self.name = name
        self.node = f"{name}@localhost"
        self.port, self.dist_port = (port, port + 100) if port else free_port_pair()
        self.dir = root / name
        self.home = self.dir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        if not cookie.exists():
            shutil.copyfile(SYSTEM_COOKIE, cookie)
            cookie.chmod(0o400)
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.port}\nloopback_users = none\n"
            # a test node shares the machine: keep its disk alarm out of the way
            "disk_free_limit.absolute = 50MB\n")
        (self.dir / "enabled_plugins").write_text("[].\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def environment(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")},
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_PID_FILE": str(self.dir / "pid"),
        }

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run([str(RABBITMQ_SBIN / "rabbitmqctl"), "-n", self.node, *args],
                              env=self.environment(), capture_output=True, text=True,
                              timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip()[-500:]}")
        return done.stdout

    def start(self, timeout: float = 90) -> None:
        (self.dir / "pid").unlink(missing_ok=True)
        log = (self.dir / "server.log").open("ab")
        try:
            self.process = subprocess.Popen([str(RABBITMQ_SBIN / "rabbitmq-server")],
                                            env=self.environment(), stdout=log, stderr=log,
                                            start_new_session=True)
        finally:
            log.close()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 90) -> None:
        self.ctl("wait", str(self.dir / "pid"), "--timeout", str(int(timeout)),
                 timeout=timeout + 10)

    def os_pid(self) -> int:
        return int((self.dir / "pid").read_text().strip())

    def kill9(self) -> None:
        """The node's Erlang VM killed outright: no chance to flush or to say goodbye."""
        os.kill(self.os_pid(), signal.SIGKILL)
        if self.process is not None:
            self.process.wait(30)
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.ctl("stop", timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            with contextlib.suppress(OSError, ValueError):
                self.kill9()
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def alarm(self, raised: bool) -> None:
        """Raise (watermark 0: every publisher blocked) or clear a memory alarm."""
        self.ctl("set_vm_memory_high_watermark", "0" if raised else "0.4")


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_is_free(port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")
