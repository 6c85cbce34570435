"""Faults under load on a three-node RabbitMQ cluster: nothing lost, nothing applied twice.

Issue 19. On this one machine it starts:

* a RabbitMQ cluster of its own (three nodes, distinct names and ports, joined
  with ``rabbitmqctl join_cluster``; quorum queues, three replicas); the
  machine's shared broker is never touched;
* a PostgreSQL database of its own on the machine's server, reached through a
  TCP proxy this script cuts to take the database away (the shared server is
  never stopped: other engineers' tests use it);
* the gateway under gunicorn (2 workers), and two processes each of the
  checker, the backup and the printer, spread over the three nodes;

then drives a steady load of signed webhooks (single events and batches, each
retried with the same ids after an error or a timeout, as Kundoluk does)
while it injects faults, each kind repeated: a broker node killed with -9 and
restarted, the node holding the backup queue's leader killed,
``close_all_connections`` on every node, a memory alarm raised and cleared, a
consumer killed with -9 mid-batch and restarted, a gunicorn worker killed,
and the database taken away. One undecodable message is planted as poison.

After the load it waits for every queue to drain and counts, for every event
the gateway answered 202: its presence in the backup's journal record, the
checker's inbox and the printer's inbox. It prints lost / applied twice per
consumer, whether the hash chain is intact, the dead-letter queues' contents,
and the time to recover after each fault kind. Exit status 1 if anything was
lost, doubled, broken or dead-lettered other than the poison.

    .venv/bin/python bench/chaos.py                 # 16 minutes: each kind >= 10 times
                                                    # (memory alarm, database: >= 3 each)
    .venv/bin/python bench/chaos.py --duration 60   # the bounded form .ci/run uses

A network partition is not made: it needs ``iptables``/``nft`` or network
namespaces and root, which CI does not promise; docs/operations.md says what a
partition does to these guarantees.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
import psycopg  # noqa: E402
from kombu import Connection  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from kozomol.webhook_client import post_events  # noqa: E402
from services.backup.adapters.journal_store import entries  # noqa: E402
from services.backup.adapters.tables import journal  # noqa: E402
from services.backup.domain.journal import first_break  # noqa: E402
from services.checker.adapters.tables import inbox as checker_inbox  # noqa: E402
from services.printer.adapters.tables import inbox as printer_inbox  # noqa: E402
from shared.db.engine import make_engine  # noqa: E402
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage  # noqa: E402
from shared.messaging.topology import Topology  # noqa: E402
from shared.settings import new_webhook_secret  # noqa: E402
from tests.cut_proxy import CutProxy  # noqa: E402
from tests.private_broker import BrokerNode  # noqa: E402
from tests.support import POSTGRES_URL, free_port, make_event  # noqa: E402

CONSUMERS = ("backup", "checker", "printer")


class Cluster:
    def __init__(self, root: Path) -> None:
        base = 5720
        self.nodes = [BrokerNode(root, f"kozomolchaos{i}", port=base + i) for i in range(3)]

    def start(self) -> None:
        first, *others = self.nodes
        first.start()
        for node in others:
            node.start()
            node.ctl("stop_app")
            node.ctl("reset")
            node.ctl("join_cluster", first.node)
            node.ctl("start_app")
        first.ctl("await_online_nodes", "3")

    def urls(self, rotate: int = 0) -> str:
        """kombu's failover form: the first URL first, the others when it is away."""
        urls = [node.url for node in self.nodes]
        urls = urls[rotate % 3:] + urls[:rotate % 3]
        return ";".join(urls)

    def running(self) -> list[BrokerNode]:
        return [node for node in self.nodes if node.process is not None]

    def any_ctl(self, *args: str) -> str:
        for node in self.running():
            try:
                return node.ctl(*args, timeout=30)
            except (RuntimeError, subprocess.TimeoutExpired):
                continue
        raise RuntimeError("no cluster node answers")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class Services:
    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir, self.env = log_dir, env
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], **env: str) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self.running[name] = subprocess.Popen(
                [sys.executable, "-m", "kozomol", *args], env={**self.env, **env}, cwd=ROOT,
                stdout=log, stderr=log, start_new_session=True)

    def kill9(self, name: str) -> None:
        self.running[name].send_signal(signal.SIGKILL)
        self.running[name].wait(30)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


class Load(threading.Thread):
    """Posts webhooks at ``rate`` events/s; each delivery retried until it is answered 202."""

    def __init__(self, url: str, secret: str, rate: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.url, self.secret, self.rate = url, secret, rate
        self.random = random.Random(seed)
        self.answered: set[str] = set()
        self.retried = 0
        self.refused: defaultdict[str, int] = defaultdict(int)
        self.last_202 = time.monotonic()
        self.stop = threading.Event()

    def run(self) -> None:
        sent = 0
        started = time.monotonic()
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                size = 1 if self.random.random() < 0.5 else self.random.randint(2, 40)
                events = [make_event() for _ in range(size)]
                while True:  # Kundoluk re-sends the same ids until it gets a 2xx
                    try:
                        response = post_events(client, self.url, [self.secret], events)
                        if response.status_code == 202:
                            break
                        self.refused[str(response.status_code)] += 1
                    except httpx.HTTPError as exc:
                        self.refused[exc.__class__.__name__] += 1
                    self.retried += 1
                    time.sleep(0.5)
                self.answered.update(e["id"] for e in events)
                self.last_202 = time.monotonic()
                sent += size
                pause = started + sent / self.rate - time.monotonic()
                if pause > 0:
                    self.stop.wait(pause)


class Chaos:
    def __init__(self, work: Path, duration: float, rate: float, seed: int) -> None:
        self.work, self.duration, self.rate = work, duration, rate
        self.random = random.Random(seed)
        self.cluster = Cluster(work / "rabbit")
        self.namespace = f"chaos{secrets.token_hex(3)}"
        self.database = f"kozomol_chaos_{secrets.token_hex(4)}"
        self.direct_url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + self.database
        parsed = make_url(self.direct_url)
        self.proxy = CutProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
        self.service_url = parsed.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False)
        self.secret = new_webhook_secret()
        self.port = free_port()
        self.recovery: defaultdict[str, list[tuple[float, float]]] = defaultdict(list)
        self.faults: defaultdict[str, int] = defaultdict(int)
        self.engine = make_engine(self.direct_url)
        self.services: Services | None = None

    # --- set-up -----------------------------------------------------------------
    def env(self, rotate: int) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")}
        return {**base, "KOZOMOL_DATABASE_URL": self.service_url,
                "KOZOMOL_BROKER_URL": self.cluster.urls(rotate),
                "KOZOMOL_NAMESPACE": self.namespace, "KOZOMOL_QUEUE_TYPE": "quorum",
                "KOZOMOL_WEBHOOK_SECRETS": self.secret,
                "KOZOMOL_DATA_DIR": str(self.work / "var"), "KOZOMOL_DELIVERY_LIMIT": "5",
                "KOZOMOL_CONSUMER_BATCH": "50", "KOZOMOL_PREFETCH": "100",
                "KOZOMOL_LOG_LEVEL": "WARNING"}

    def set_up(self) -> None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self.cluster.start()
        upgraded = subprocess.run([sys.executable, "-m", "kozomol", "db", "upgrade"],
                                  env=self.env(0), cwd=ROOT, capture_output=True, text=True,
                                  check=False)
        if upgraded.returncode:
            raise RuntimeError(upgraded.stderr)
        self.services = Services(self.work / "logs", self.env(0))
        self.services.start("gateway", ["gateway", "--port", str(self.port), "--workers", "2"])
        for index, name in enumerate(f"{s}{i}" for s in CONSUMERS for i in (1, 2)):
            self.services.start(name, [name[:-1]], KOZOMOL_BROKER_URL=self.cluster.urls(index))
        wait(lambda: self.probe() is not None, 90, "the gateway did not come up")

    def probe(self) -> str | None:
        """One event posted now: where it was kept (broker, outbox) or None if refused."""
        try:
            with httpx.Client(timeout=5) as client:
                response = post_events(client, self.webhook_url, [self.secret], [make_event()])
        except httpx.HTTPError:
            return None
        if response.status_code != 202:
            return None
        return str(orjson.loads(response.content).get("stored_in"))

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/kundoluk"

    def journal_count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(journal))
                       .scalar_one())

    # --- faults -----------------------------------------------------------------
    def after_fault(self, kind: str, load: Load, ended: float) -> None:
        """Time until the intake answers 202 again, and until the journal grows again."""
        before = self.journal_count()
        intake_back = consumption_back = None
        deadline = ended + 120
        while time.monotonic() < deadline and (intake_back is None or consumption_back is None):
            if intake_back is None and load.last_202 > ended:
                intake_back = load.last_202 - ended
            if consumption_back is None:
                with contextlib.suppress(Exception):  # the database may still be cut
                    if self.journal_count() > before:
                        consumption_back = time.monotonic() - ended
            time.sleep(0.2)
        self.recovery[kind].append((intake_back or float("nan"),
                                    consumption_back or float("nan")))

    def fault(self, kind: str) -> float:
        """Inject one fault of ``kind``; returns when it ended (monotonic)."""
        assert self.services is not None
        self.faults[kind] += 1
        cluster = self.cluster
        if kind == "node kill -9":
            node = self.random.choice(cluster.running())
            node.kill9()
            time.sleep(3)
            node.start()
        elif kind == "leader kill -9":
            leader = self.leader_of(f"{self.namespace}.backup")
            node = next(n for n in cluster.nodes if n.node == leader)
            node.kill9()
            time.sleep(3)
            node.start()
        elif kind == "close_all_connections":
            for node in cluster.running():
                node.ctl("close_all_connections", "chaos")
        elif kind == "memory alarm":
            for node in cluster.running():
                node.alarm(raised=True)
            time.sleep(5)
            for node in cluster.running():
                node.alarm(raised=False)
        elif kind == "consumer kill -9":
            # each service in turn, so every one is killed as often
            service = CONSUMERS[(self.faults[kind] - 1) % len(CONSUMERS)]
            name = f"{service}{self.random.choice((1, 2))}"
            self.services.kill9(name)
            self.services.start(name, [name[:-1]], KOZOMOL_BROKER_URL=cluster.urls(
                self.random.randrange(3)))
        elif kind == "gunicorn worker kill -9":
            master = self.services.running["gateway"].pid
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            if children:
                os.kill(int(self.random.choice(children)), signal.SIGKILL)
        elif kind == "database away 10 s":
            self.proxy.cut()
            time.sleep(10)
            self.proxy.restore()
        return time.monotonic()

    def leader_of(self, queue: str) -> str:
        listed = self.cluster.any_ctl("list_queues", "name", "leader", "--no-table-headers",
                                      "--quiet")
        for line in listed.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == queue:
                return parts[1]
        return self.cluster.running()[0].node

    def plant_poison(self) -> None:
        topology = Topology(self.namespace, "quorum", 5)
        publisher = ConfirmingPublisher(self.cluster.urls(), topology, connect_timeout=5,
                                        confirm_timeout=10)
        publisher.publish([OutgoingMessage(topology.events.name, "mark.recorded",
                                           b"not an envelope", "poison-1")])
        publisher.close()

    # --- the run ----------------------------------------------------------------
    def run(self) -> int:
        # One round: every kind once, the consumer kill once per service.
        kinds = ["node kill -9", "close_all_connections", "consumer kill -9",
                 "memory alarm", "consumer kill -9", "gunicorn worker kill -9",
                 "leader kill -9", "consumer kill -9", "database away 10 s"]
        load = Load(self.webhook_url, self.secret, self.rate, seed=1)
        load.start()
        self.plant_poison()
        started = time.monotonic()
        index = 0
        while time.monotonic() - started < self.duration:
            kind = kinds[index % len(kinds)]
            index += 1
            time.sleep(2)
            try:
                ended = self.fault(kind)
            except Exception as exc:
                print(f"fault {kind!r} could not be injected: {exc!r}"[:300], flush=True)
                continue
            self.after_fault(kind, load, ended)
            print(f"{time.monotonic() - started:6.0f} s  {kind:<26} "
                  f"intake back {self.recovery[kind][-1][0]:5.1f} s, "
                  f"consumption back {self.recovery[kind][-1][1]:5.1f} s", flush=True)
        load.stop.set()
        load.join(120)
        return self.verify(load)

    def drained(self) -> bool:
        with Connection(self.cluster.urls(), connect_timeout=5) as connection:
            channel = connection.channel()
            for service in (*CONSUMERS, "gateway"):
                if channel.queue_declare(f"{self.namespace}.{service}",
                                         passive=True).message_count:
                    return False
        with self.engine.connect() as connection:
            outbox_rows = connection.exec_driver_sql("SELECT count(*) FROM gateway_outbox")
            return not outbox_rows.scalar_one()

    def dead_letters(self) -> dict[str, int]:
        with Connection(self.cluster.urls(), connect_timeout=5) as connection:
            channel = connection.channel()
            return {service: int(channel.queue_declare(f"{self.namespace}.{service}.dead",
                                                       passive=True).message_count)
                    for service in (*CONSUMERS, "gateway")}

    def verify(self, load: Load) -> int:
        wait(self.drained, 600, "the queues and the outbox did not drain")
        time.sleep(5)  # batches in flight commit
        answered = load.answered
        effects: dict[str, list[str]] = {}
        with self.engine.connect() as connection:
            effects["backup (journal)"] = list(connection.execute(
                select(journal.c.event_id)).scalars())
            effects["checker (inbox)"] = list(connection.execute(
                select(checker_inbox.c.event_id)).scalars())
            effects["printer (inbox)"] = list(connection.execute(
                select(printer_inbox.c.event_id)).scalars())
            chain_break = first_break(entries(connection))
        failed = False
        print(f"\nevents answered 202: {len(answered)}; deliveries retried by the client: "
              f"{load.retried} {dict(load.refused)}")
        print(f"{'consumer':<18} {'present':>8} {'lost':>6} {'applied twice':>14}")
        for name, ids in effects.items():
            present = set(ids)
            lost = len(answered - present)
            twice = len(ids) - len(present)
            failed |= bool(lost or twice)
            print(f"{name:<18} {len(present & answered):>8} {lost:>6} {twice:>14}")
        print(f"hash chain: {'intact' if chain_break is None else f'broken at {chain_break}'}")
        dead = self.dead_letters()
        print(f"dead-letter queues: {dead} (planted poison: 1 each for backup, checker, "
              "printer)")
        failed |= chain_break is not None
        failed |= dead != {"backup": 1, "checker": 1, "printer": 1, "gateway": 0}
        print(f"\n{'fault':<26} {'times':>5} {'intake back (s)':>16} "
              f"{'consumption back (s)':>21}")
        for kind, times in self.recovery.items():
            intake = [t[0] for t in times if t[0] == t[0]]
            consumption = [t[1] for t in times if t[1] == t[1]]
            print(f"{kind:<26} {self.faults[kind]:>5} {summary(intake):>16} "
                  f"{summary(consumption):>21}")
        print("\nRESULT:", "FAILED" if failed else "lost = 0, applied twice = 0")
        return 1 if failed else 0

    def tear_down(self) -> None:
        if self.services is not None:
            self.services.stop_all()
        self.proxy.close()
        self.cluster.stop()
        self.engine.dispose()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def summary(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} (max {max(values):.1f})"


def wait(condition: Callable[[], Any], timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # a part still coming up
            if condition():
                return
        time.sleep(0.5)
    raise RuntimeError(message)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=960.0, help="seconds of faults")
    parser.add_argument("--rate", type=float, default=150.0, help="events per second")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kozomol-chaos-"))
    chaos = Chaos(work, arguments.duration, arguments.rate, arguments.seed)
    try:
        chaos.set_up()
        return chaos.run()
    finally:
        chaos.tear_down()
        print(f"logs: {work / 'logs'}" if arguments.keep else "", flush=True)
        if not arguments.keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    sys.exit(main())
