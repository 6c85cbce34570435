"""Benchmark: the gateway's webhook intake against the raw RabbitMQ publish ceiling.

Run from the repository root::

    .venv/bin/python bench/gateway_intake.py            # full run, about 4 minutes
    .venv/bin/python bench/gateway_intake.py --quick    # smoke run, under a minute

Needs the local RabbitMQ (``--broker-url``) and PostgreSQL (``--postgres-url``).
It creates a scratch database and a broker namespace of its own, and removes
both at the end, whatever happens. It measures, in one run:

1. the raw ceiling: one Python process publishing persistent event messages with
   publisher confirms through the project's ``ConfirmingPublisher`` (one message
   per call, and windows of 100 and 1000 messages per call);
2. a bare Flask app under the same gunicorn settings (``GatewayServer``'s
   options, a trivial view that reads the JSON body and answers 202), at 8, 32
   and 64 client connections: the ceiling of single events, what HTTP alone costs;
3. the gateway under gunicorn (``kozomol gateway``) taking one signed event per
   POST at the same 8, 32 and 64 client connections;
4. the same gateway taking batches of 100 and of 1000 events per POST, each
   between two raw steps of the same size (its ceiling is the better of them).

The clients are threads with one keep-alive connection each on a plain socket
(pre-signed, pre-built requests): httpx took ~0.6 ms of CPU per request, which
on 2 cores would have been measured as much as the server.

Every step is bounded in events and in seconds. Nothing consumes: the queues
are emptied before each step, and after it both queues an event routes to
must hold exactly the events confirmed to the client. The CPU each group of
processes used is read from /proc, so a step short of CPU shows. The table is
printed and written into
``docs/benchmarks.md`` (between the ``bench:results`` markers, so the
hand-written parts of that page stay), unless ``--no-docs`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from kombu import Connection

from kozomol.webhook_client import signed_headers
from shared.messaging.publisher import ConfirmingPublisher, OutgoingMessage
from shared.messaging.topology import SUBSCRIPTIONS, Topology, resolve_queue_type
from shared.settings import new_webhook_secret

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
TARGET = 0.75  # batched intake against the raw ceiling of the same window (issue 22)
SINGLE_TARGET = 0.65  # single events against the bare Flask app, same clients (issue 22)
SINGLE_RATE, SINGLE_P99_MS, SINGLE_CLIENTS = 1500, 50.0, 64  # issue 22's figures
NOISE_CORES = 0.3  # CPU outside the measured processes above which a row is flagged
MAX_BODY = 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Step:
    """One measured step: at most ``max_events`` events, and at most ``seconds`` long."""

    name: str
    per_call: int  # events per publish() call or per POST
    threads: int  # client threads; 0 for gateway steps: 4 per gunicorn worker
    max_events: int
    seconds: float


@dataclass(frozen=True)
class Plan:
    """Raw single messages once; then for each gunicorn worker count: the gateway with
    single events, and for each window size a gateway step between two raw steps
    of the same size, so that each batched figure has a ceiling measured right
    next to it."""

    raw_single: Step
    bare_single: Step  # the bare Flask app; threads = each of ``sweep``
    gateway_single: Step  # likewise
    sweep: tuple[int, ...]  # client connections for single events
    windows: tuple[tuple[Step, Step], ...]  # (raw, gateway) per events-per-call size
    warmup_seconds: float


FULL = Plan(
    raw_single=Step("raw, 1 msg per publish()", 1, 1, 5_000, 8),
    bare_single=Step("bare Flask, 1 event per POST", 1, 0, 40_000, 8),
    gateway_single=Step("gateway, 1 event per POST", 1, 0, 30_000, 10),
    sweep=(8, 32, 64),
    windows=(
        (Step("raw, window of 100", 100, 1, 60_000, 6),
         Step("gateway, 100 events per POST", 100, 0, 200_000, 20)),
        (Step("raw, window of 1000", 1000, 1, 100_000, 8),
         Step("gateway, 1000 events per POST", 1000, 0, 160_000, 20)),
    ),
    warmup_seconds=2.0,
)
QUICK = Plan(
    raw_single=Step("raw, 1 msg per publish()", 1, 1, 1_000, 2),
    bare_single=Step("bare Flask, 1 event per POST", 1, 0, 8_000, 3),
    gateway_single=Step("gateway, 1 event per POST", 1, 0, 6_000, 3),
    sweep=(8, 64),
    windows=(
        (Step("raw, window of 100", 100, 1, 15_000, 2),
         Step("gateway, 100 events per POST", 100, 0, 30_000, 4)),
        (Step("raw, window of 1000", 1000, 1, 30_000, 3),
         Step("gateway, 1000 events per POST", 1000, 0, 40_000, 5)),
    ),
    warmup_seconds=1.0,
)


# --------------------------------------------------------------------------- events


class Events:
    """Realistic, unique events: four marks for every lesson record, nothing padded."""

    def __init__(self, run_id: str) -> None:
        self._run = run_id
        self._next = 0
        self._lock = threading.Lock()

    def take(self, count: int) -> list[dict[str, Any]]:
        with self._lock:
            first, self._next = self._next, self._next + count
        return [self._event(n) for n in range(first, first + count)]

    def _event(self, n: int) -> dict[str, Any]:
        klass = f"{5 + n % 7}{'abv'[n % 3]}"
        subject = ("math", "kyrgyz_lang", "russian_lang", "history", "physics")[n % 5]
        teacher = f"t_{n % 60:03d}"
        lesson = f"les_{klass}_{subject}_0902_{n % 7 + 1}"
        base = {"id": f"evt_{self._run}_{n:08d}", "school_id": f"sch{n % 40:03d}",
                "occurred_at": "2026-09-02T11:05:13+06:00"}
        if n % 5 == 4:
            return {**base, "type": "lesson.recorded", "data": {
                "lesson_id": lesson, "class_id": klass, "subgroup": None,
                "subject_id": subject, "date": "2026-09-02", "period": n % 7 + 1,
                "teacher_id": teacher, "scheduled_teacher_id": teacher,
                "is_substitution": False, "topic": "Натуральные числа и шкалы",
                "homework": "§ 3, № 12, 14, 17 (стр. 21)"}}
        return {**base, "type": "mark.recorded", "data": {
            "mark_id": f"mrk_{self._run}_{n:08d}", "student_id": f"st_{n % 1200:04d}",
            "class_id": klass, "subject_id": subject, "teacher_id": teacher,
            "lesson_id": lesson, "date": "2026-09-02", "value": "2345"[n % 4],
            "work_type": ("oral", "written", "homework", "test")[n % 4], "kind": "current",
            "term_id": None}}


def outgoing(exchange: str, event: dict[str, Any]) -> OutgoingMessage:
    """The message the gateway's intake would publish for this event."""
    return OutgoingMessage(exchange=exchange, routing_key=event["type"],
                           body=orjson.dumps(event), message_id=event["id"],
                           headers={"school_id": event["school_id"]})


def request_body(events: Sequence[dict[str, Any]]) -> bytes:
    """What ``kozomol.webhook_client.post_events`` sends."""
    return orjson.dumps(events[0] if len(events) == 1 else {"events": list(events)})


# --------------------------------------------------------------------------- CPU


GROUPS = ("client", "gateway", "rabbitmq", "postgres")


@dataclass
class CpuSample:
    at: float
    pids: dict[int, tuple[str, float]]  # pid -> (group, CPU seconds so far)
    busy: float  # machine-wide busy jiffies
    total: float


class CpuMeter:
    """CPU seconds of the client, the gateway, RabbitMQ and PostgreSQL, from /proc."""

    def __init__(self) -> None:
        self.gateway_pid: int | None = None

    def sample(self) -> CpuSample:
        pids: dict[int, tuple[str, float]] = {os.getpid(): ("client", sum(os.times()[:2]))}
        gateway_tree = self._tree(self.gateway_pid) if self.gateway_pid else set()
        for pid, (comm, _ppid, seconds) in _processes().items():
            if pid in gateway_tree:
                pids[pid] = ("gateway" if pid == self.gateway_pid else "gateway worker", seconds)
            elif comm == "beam.smp":
                pids[pid] = ("rabbitmq", seconds)
            elif comm.startswith("postgres"):
                pids[pid] = ("postgres", seconds)
        busy, total = _machine_jiffies()
        return CpuSample(time.perf_counter(), pids, busy, total)

    @staticmethod
    def _tree(root: int) -> set[int]:
        processes = _processes()
        tree, grew = {root}, True
        while grew:
            grew = False
            for pid, (_comm, ppid, _seconds) in processes.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return tree


def _processes() -> dict[int, tuple[str, int, float]]:
    found: dict[int, tuple[str, int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # fields[0] is state (stat field 3): ppid is field 4, utime 14, stime 15.
        found[int(entry.name)] = (comm, int(fields[1]),
                                  (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return found


def _machine_jiffies() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


def cpu_usage(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Cores used by each group over the interval, and the machine's busy share."""
    wall = max(after.at - before.at, 1e-9)
    usage = dict.fromkeys(GROUPS, 0.0)
    workers = []
    # Per process, so one that exits meanwhile (a database session) is simply left out.
    for pid, (group, seconds) in after.pids.items():
        used = (seconds - before.pids.get(pid, (group, 0.0))[1]) / wall
        if group == "gateway worker":
            workers.append(used)
            group = "gateway"  # noqa: PLW2901
        usage[group] += used
    workers.sort(reverse=True)
    usage["machine_busy"] = (after.busy - before.busy) / max(after.total - before.total, 1)
    # Kernel work outside any process's account, and whatever else runs on the machine.
    usage["other"] = max(0.0, usage["machine_busy"] * (os.cpu_count() or 1)
                         - sum(usage[name] for name in GROUPS))
    usage.update({f"worker {i + 1}": v for i, v in enumerate(workers)})
    return usage


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    step: Step
    kind: str  # raw | bare | gateway | warmup
    workers: int = 0  # gunicorn workers (gateway steps)
    events: int = 0
    calls: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    cpu: dict[str, float] = field(default_factory=dict)
    bytes_per_event: float = 0.0
    extra: int = 0  # events published besides the measured ones (warm-up)
    ceiling: float = 0.0  # gateway steps: the raw rate at the same size, measured next to it
    ceiling_steps: list[Result] = field(default_factory=list)  # the raw steps behind it
    queued: str = ""  # what the queues held after the step

    @property
    def label(self) -> str:
        return f"{self.step.name} ({self.workers} workers)" if self.workers else self.step.name

    @property
    def external_load(self) -> float:
        """Cores used by processes this step did not drive (other work on the machine).

        During a raw or bare-Flask step the gateway is idle, so PostgreSQL's CPU is
        someone else's.
        """
        return self.cpu.get("other", 0.0) + (self.cpu.get("postgres", 0.0)
                                              if self.kind in ("raw", "bare") else 0.0)

    @property
    def disturbed(self) -> bool:
        """This step, or the raw step its ceiling comes from, ran beside other load.

        A disturbed raw step that is not the better of the two only made the
        ceiling lower than it could be, which the other one already corrects.
        """
        return self.external_load > NOISE_CORES or any(
            r.external_load > NOISE_CORES and r.rate >= self.ceiling
            for r in self.ceiling_steps)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def measure(meter: CpuMeter, result: Result, body: Callable[[Result], None]) -> Result:
    before = meter.sample()
    body(result)
    result.cpu = cpu_usage(before, meter.sample())
    return result


# --------------------------------------------------------------------------- raw ceiling


def raw_step(broker_url: str, topology: Topology, events: Events, step: Step,
             meter: CpuMeter) -> Result:
    exchange = topology.events.name
    messages = [outgoing(exchange, e) for e in events.take(step.max_events)]
    publisher = ConfirmingPublisher(broker_url, topology, connect_timeout=5, confirm_timeout=30)
    publisher.publish([outgoing(exchange, e) for e in events.take(10)])  # connect + declare
    result = Result(step, "raw", bytes_per_event=_mean_size(m.body for m in messages), extra=10)

    def run(result: Result) -> None:
        started = time.perf_counter()
        deadline = started + step.seconds
        for first in range(0, len(messages), step.per_call):
            if time.perf_counter() >= deadline:
                break
            window = messages[first : first + step.per_call]
            call_started = time.perf_counter()
            publisher.publish(window)  # raises on any nack / return / timeout
            result.latencies.append(time.perf_counter() - call_started)
            result.events += len(window)
            result.calls += 1
        result.seconds = time.perf_counter() - started

    try:
        return measure(meter, result, run)
    finally:
        publisher.close()


def _mean_size(bodies: Iterator[bytes]) -> float:
    sizes = [len(b) for b in bodies]
    return sum(sizes) / len(sizes) if sizes else 0.0


# --------------------------------------------------------------------------- gateway


class RawHttp:
    """One keep-alive HTTP/1.1 connection on a plain socket, for pre-built requests.

    Just enough HTTP for gunicorn's answers (a status line, ``Content-Length``,
    ``Connection: close``); no retry, so a request is never sent twice.
    """

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._sock: socket.socket | None = None
        self._buffer = b""

    def request(self, data: bytes) -> tuple[int, bytes]:
        if self._sock is None:
            self._sock = socket.create_connection(self._address, timeout=60)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._buffer = b""
        try:
            self._sock.sendall(data)
            return self._response()
        except BaseException:
            self.close()
            raise

    def _response(self) -> tuple[int, bytes]:
        assert self._sock is not None
        buffer = self._buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer += self._receive()
        lines = buffer[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value.strip().lower() == "close"
            elif name == "transfer-encoding":
                raise ConnectionError("chunked answers are not read here")
        start = end + 4
        while len(buffer) < start + length:
            buffer += self._receive()
        body, self._buffer = buffer[start : start + length], buffer[start + length :]
        if close:
            self.close()
        return status, body

    def _receive(self) -> bytes:
        assert self._sock is not None
        chunk = self._sock.recv(262144)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None


def http_request(method: str, path: str, port: int, body: bytes = b"",
                 headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def gateway_step(url: str, secret_list: Sequence[str], events: Events, step: Step,
                 meter: CpuMeter, *, workers: int, kind: str = "gateway") -> Result:
    """``step.threads`` client connections POST pre-built, pre-signed requests until the
    count or time runs out (closed loop: each sends its next when answered)."""
    parsed = httpx.URL(url)
    port = int(parsed.port or 80)
    per_thread = -(-step.max_events // step.threads)
    requests_per_thread = -(-per_thread // step.per_call)
    requests: list[list[tuple[bytes, int]]] = []
    sizes: list[float] = []
    for _ in range(step.threads):
        mine = []
        for _ in range(requests_per_thread):
            chunk = events.take(step.per_call)
            body = request_body(chunk)
            if len(body) >= MAX_BODY:
                raise SystemExit(f"a batch of {step.per_call} is {len(body)} bytes, over 1 MiB")
            # Signed now: the step ends well within the signature's 5 minutes.
            mine.append((http_request("POST", parsed.path, port, body,
                                      signed_headers(secret_list, body)), len(chunk)))
            sizes.append(len(body) / len(chunk))
        requests.append(mine)
    result = Result(step, kind, workers=workers, bytes_per_event=sum(sizes) / len(sizes))
    lock = threading.Lock()
    ready = threading.Barrier(step.threads + 1)
    go = threading.Event()
    healthz = http_request("GET", "/healthz", port)

    def client(mine: list[tuple[bytes, int]]) -> None:
        latencies: list[float] = []
        accepted = calls = 0
        errors: Counter[str] = Counter()
        http = RawHttp("127.0.0.1", port)
        try:
            http.request(healthz)  # open the connection
            ready.wait(30)
            go.wait(30)
            deadline = time.perf_counter() + step.seconds
            for data, count in mine:
                if time.perf_counter() >= deadline:
                    break
                started = time.perf_counter()
                try:
                    status, body = http.request(data)
                except OSError as exc:
                    errors[exc.__class__.__name__] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                calls += 1
                error = _check(status, body, count, bare=kind == "bare")
                if error:
                    errors[error] += 1
                else:
                    accepted += count
        finally:
            http.close()
        with lock:
            result.latencies.extend(latencies)
            result.events += accepted
            result.calls += calls
            result.errors.update(errors)

    threads = [threading.Thread(target=client, args=(mine,), daemon=True) for mine in requests]
    for thread in threads:
        thread.start()

    def run(result: Result) -> None:
        ready.wait(30)
        started = time.perf_counter()
        go.set()
        for thread in threads:
            thread.join(step.seconds + 120)
        result.seconds = time.perf_counter() - started

    return measure(meter, result, run)


def _check(status: int, body: bytes, count: int, *, bare: bool = False) -> str | None:
    if status != 202:
        return f"HTTP {status}"
    if bare:
        return None
    payload = orjson.loads(body)
    if payload.get("accepted") != count or payload.get("duplicates") != 0:
        return "accepted count mismatch"
    if payload.get("stored_in") != "broker":
        return f"stored_in={payload.get('stored_in')}"
    return None


class GatewayProcess:
    """``kozomol gateway`` (gunicorn) as a child process in its own session."""

    def __init__(self, env: dict[str, str], port: int, workers: int, log_path: Path,
                 launcher: Path | None = None, *, bare: bool = False) -> None:
        self.port, self.workers, self.log_path = port, workers, log_path
        self._log = log_path.open("wb")
        if bare:
            command = [sys.executable, str(Path(__file__).resolve()), "--bare-server"]
        else:
            command = [sys.executable, str(launcher)] if launcher else _kozomol()
            command.append("gateway")
        self.process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=ROOT,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every worker said ready (each has its own broker connection and engine)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the gateway exited ({self.process.returncode}):\n"
                                       + self.log_tail())
                with contextlib.suppress(httpx.HTTPError):
                    if http.get(self.base + "/readyz").status_code == 200:
                        return
                time.sleep(0.2)
        raise RuntimeError("the gateway was not ready in time:\n" + self.log_tail())

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)  # our own session only
                self.process.wait(10)
        self._log.close()


def serve_bare(argv: Sequence[str]) -> None:
    """A trivial Flask app (read the JSON body, answer 202) under the gateway's own
    gunicorn settings: ``GatewayServer`` with only the app replaced."""
    from flask import Flask, Response, request

    from services.gateway.server import GatewayServer
    from shared.settings import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    args = parser.parse_args(argv)
    app = Flask("bare")

    @app.post("/webhooks/kundoluk")
    def receive() -> Response:
        event = orjson.loads(request.get_data(cache=False))
        return Response(orjson.dumps({"id": event.get("id"), "status": "accepted"}),
                        status=202, mimetype="application/json")

    @app.get("/healthz")
    @app.get("/readyz")
    def ready() -> Response:
        return Response(b'{"status":"ok"}', mimetype="application/json")

    class BareServer(GatewayServer):
        def load_config(self) -> None:
            self.options["worker_exit"] = lambda _server, _worker: None  # no gateway to close
            super().load_config()

        def load(self) -> Flask:
            return app

    sys.argv = sys.argv[:1]  # gunicorn reads no options of ours
    BareServer(load_settings(), host=args.host, port=args.port, workers=args.workers).run()


def _kozomol() -> list[str]:
    script = Path(sys.executable).parent / "kozomol"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from kozomol.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------- scratch resources


class Scratch:
    """The run's database, broker namespace and data folder; ``close`` removes them all."""

    def __init__(self, postgres_url: str, broker_url: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.run_id = secrets.token_hex(3)
        self.namespace = f"bench{stamp}{self.run_id}"
        self.database = f"kozomol_bench_{stamp}_{self.run_id}"
        self.postgres_url = postgres_url
        self.broker_url = broker_url
        self.database_url = f"{postgres_url.rsplit('/', 1)[0]}/{self.database}"
        self._tmp = tempfile.TemporaryDirectory(prefix="kozomol-bench-")
        self.data_dir = Path(self._tmp.name)
        self._created_db = False

    def create_database(self) -> None:
        with psycopg.connect(self.postgres_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self._created_db = True

    def close(self) -> list[str]:
        problems = []
        try:
            delete_namespace(self.broker_url, self.namespace)
        except Exception as exc:
            problems.append(f"broker namespace {self.namespace}: {exc!r}")
        if self._created_db:
            try:
                with psycopg.connect(self.postgres_url, autocommit=True,
                                     connect_timeout=5) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            except Exception as exc:
                problems.append(f"database {self.database}: {exc!r}")
        self._tmp.cleanup()
        return problems


def delete_namespace(broker_url: str, namespace: str) -> None:
    topology = Topology(namespace, "classic")
    with Connection(broker_url, connect_timeout=5) as connection:
        channel = connection.channel()
        for service in SUBSCRIPTIONS:
            for queue in (f"{namespace}.{service}", f"{namespace}.{service}.dead"):
                channel.queue_delete(queue)
            channel.exchange_delete(topology.dead_letter_exchange(service).name)
        channel.exchange_delete(topology.events.name)
        channel.exchange_delete(topology.internal.name)
        channel.exchange_delete(topology.commands.name)


class Queues:
    """The namespace's event queues: emptied before each step, counted after it.

    Every step starts on empty queues (a backlog of a million messages slows a
    quorum queue down, which would favour whichever step ran first), and every
    event a step had confirmed must then be in both queues it routes to.
    """

    NAMES = ("checker", "backup")

    def __init__(self, broker_url: str, namespace: str) -> None:
        self._url = broker_url
        self._names = [f"{namespace}.{name}" for name in self.NAMES]

    def empty(self) -> None:
        with Connection(self._url, connect_timeout=5) as connection:
            channel = connection.channel()
            for name in self._names:
                with contextlib.suppress(Exception):  # not declared yet: nothing to purge
                    channel.queue_purge(name)
        time.sleep(1.0)  # let the broker settle before the next measurement

    def check(self, result: Result) -> None:
        expected = result.events + result.extra
        with Connection(self._url, connect_timeout=5) as connection:
            channel = connection.channel()
            depths = [int(channel.queue_declare(name, passive=True)[1]) for name in self._names]
        if all(depth == expected for depth in depths):
            result.queued = "ok"
        else:
            result.queued = (f"MISMATCH: {expected:,} confirmed, queues hold "
                             + ", ".join(f"{d:,}" for d in depths))


def broker_facts(broker_url: str, requested: str) -> tuple[str, str]:
    """(RabbitMQ version, the queue type ``requested`` resolves to on it)."""
    with Connection(broker_url, connect_timeout=5) as connection:
        connection.connect()
        properties = dict(connection.connection.server_properties)
    version = properties.get("version", "?")
    version = version.decode() if isinstance(version, bytes) else str(version)
    return version, resolve_queue_type(requested, properties)


def gunicorn_facts() -> str:
    """The worker class and threads ``kozomol gateway`` runs with (and the bare app too)."""
    from services.gateway.server import GatewayServer

    server = GatewayServer.__new__(GatewayServer)
    with contextlib.suppress(Exception):
        GatewayServer.__init__(server, None, host="127.0.0.1", port=0,  # type: ignore[arg-type]
                               workers=1)
    options = getattr(server, "options", {})
    return f"{options.get('worker_class', '?')}, {options.get('threads', '?')} threads each"


def postgres_version(postgres_url: str) -> str:
    with psycopg.connect(postgres_url, connect_timeout=5) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return re.sub(r"\s+", " ", line.split(":", 1)[1]).strip()
    return platform.processor() or "?"


# --------------------------------------------------------------------------- report


def table(results: Sequence[Result]) -> str:
    header = ("| step | client connections | events | calls | events/s | % of ceiling "
              "| p50 ms/call | p99 ms/call | errors | CPU cores: client / gateway / rabbitmq "
              "/ postgres / other | machine busy |")
    lines = [header, _rule(header)]
    for r in results:
        share = ""
        if r.kind == "gateway" and r.ceiling:
            share = f"{100 * r.rate / r.ceiling:.0f} %"
        errors = ", ".join(f"{k}: {v}" for k, v in r.errors.items()) or "0"
        cpu = " / ".join(f"{r.cpu.get(k, 0):.2f}" + (_split(r.cpu) if k == "gateway" else "")
                         for k in (*GROUPS, "other"))
        lines.append(
            f"| {r.label} | {r.step.threads} | {r.events:,} | {r.calls:,} | "
            f"{r.rate:,.0f} | {share} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} | "
            f"{errors} | {cpu} | {100 * r.cpu.get('machine_busy', 0):.0f} % |"
        )
    return "\n".join(lines)


def _split(cpu: dict[str, float]) -> str:
    """How the gateway's CPU fell on its worker processes, busiest first."""
    workers = [f"{v:.2f}" for k, v in cpu.items() if k.startswith("worker ")]
    busy = cpu.get("gateway", 0) >= 0.05
    return f" ({' + '.join(workers)})" if len(workers) > 1 and busy else ""


def _rule(header: str) -> str:
    return "|" + "---|" * (header.count("|") - 1)


def verdict(results: Sequence[Result]) -> list[str]:
    lines = []
    for r in results:
        if r.kind == "gateway" and r.step.per_call == 1 and r.ceiling:
            share = r.rate / r.ceiling
            met = share >= SINGLE_TARGET
            target = f"the {100 * SINGLE_TARGET:.0f} % target"
            if r.step.threads == SINGLE_CLIENTS:
                met = met and r.rate >= SINGLE_RATE and r.percentile(0.99) < SINGLE_P99_MS
                target = (f"the targets ({SINGLE_RATE:,} events/s, p99 under "
                          f"{SINGLE_P99_MS:.0f} ms, {100 * SINGLE_TARGET:.0f} % of bare Flask)")
            lines.append(
                f"- single events, {r.step.threads} clients, {r.workers} workers: "
                f"{r.rate:,.0f} events/s, p99 {r.percentile(0.99):.1f} ms = "
                f"{100 * share:.0f} % of bare Flask at the same clients "
                f"({r.ceiling:,.0f} requests/s): **{'meets' if met else 'misses'}** {target}"
                + (" (but other load disturbed this comparison: not reliable)."
                   if r.disturbed else ".")
            )
        if r.kind == "gateway" and r.step.per_call > 1 and r.ceiling:
            share = r.rate / r.ceiling
            mark = "meets" if share >= TARGET else "misses"
            lines.append(
                f"- {r.step.per_call} events per POST, {r.workers} workers: "
                f"{r.rate:,.0f} events/s = "
                f"{100 * share:.0f} % of the raw ceiling at the same window "
                f"({r.ceiling:,.0f} events/s): **{mark}** the "
                f"{100 * TARGET:.0f} % target"
                + (" (but other load disturbed this comparison: not reliable)."
                   if r.disturbed else ".")
            )
    return lines


def results_block(args: argparse.Namespace, facts: dict[str, str], results: Sequence[Result],
                  checks: list[str]) -> str:
    sizes = [r.bytes_per_event for r in results if r.bytes_per_event]
    out = [
        BEGIN,
        "",
        f"Run of {facts['date']}, mode `{'--quick' if args.quick else 'default'}`, "
        f"gunicorn workers: {facts['workers']} ({facts['gunicorn']}).",
        f"Command: `{facts['command']}`.",
        "",
        f"- machine: {facts['nproc']} CPU cores ({facts['cpu']}), {facts['memory']} RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}",
        f"- RabbitMQ {facts['rabbitmq']}, queues: {facts['queue_type']} "
        f"(every event is routed to 2 queues: checker and backup)",
        f"- PostgreSQL {facts['postgres']}",
        f"- event size: {min(sizes):.0f}-{max(sizes):.0f} bytes of JSON on average "
        "(4 `mark.recorded` : 1 `lesson.recorded`, not padded)",
        "",
    ]
    out.append(table(results))
    out += ["", "Against the targets (single events: the bare Flask app under the same "
            "gunicorn settings at the same client connections; batches: the raw ceiling = "
            "the better of the two raw steps of the same size just before and just after "
            "it):", ""]
    out += verdict(results) or ["- (no gateway step ran)"]
    noisy = [r.label for r in results if r.external_load > NOISE_CORES]
    if noisy:
        out += ["", f"Load from outside the benchmark used more than {NOISE_CORES} of a core "
                "during: " + "; ".join(noisy) + ". Those rows are less reliable (see the "
                "`other` column, and `postgres` in raw rows, where the gateway is idle)."]
    out += ["", "Checks after the run:", ""] + [f"- {c}" for c in checks]
    out += ["", END]
    return "\n".join(out)


DOC_TEMPLATE = """# Benchmarks

## Gateway intake vs the raw RabbitMQ ceiling

`bench/gateway_intake.py` measures how many webhook events per second the
gateway turns into confirmed, persistent broker messages, next to what one
Python process can publish straight into RabbitMQ with the same publisher.

What it measures, in one run:

1. **Raw ceiling**: one Python process publishes the same event messages
   (persistent, publisher confirms, `mandatory`) with the project's
   `ConfirmingPublisher`: one message per `publish()` call, then windows of 100
   and of 1000 messages (all sent, then all confirms awaited).
2. **Gateway, single events**: `kozomol gateway` under gunicorn; client threads
   (one `httpx.Client` each) POST one signed event per request.
3. **Gateway, batched**: 100 and 1000 events per POST (`{"events": [...]}`,
   under 1 MiB). Every response must be 202 with the right `accepted` count.

Latency is per call (a `publish()` call or a POST), measured by the client.
The CPU columns are cores used by each group of processes over the step (from
`/proc`), so a row whose columns add up to the number of cores ran out of CPU.

How to run it (RabbitMQ and PostgreSQL on 127.0.0.1):

```
.venv/bin/python bench/gateway_intake.py            # default, about 3-4 minutes
.venv/bin/python bench/gateway_intake.py --quick    # smoke run, under a minute
.venv/bin/python bench/gateway_intake.py --workers 1,2,3 --no-docs  # compare
```

It creates its own database and broker namespace and removes both at the end.
Re-running it replaces the results section below; the rest of this page is
written by hand.

## Results

{block}

## Reading

(to be written from the numbers above)
"""


def write_docs(block: str) -> None:
    if DOCS.exists():
        text = DOCS.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            tail = rest.split(END, 1)[1]
            DOCS.write_text(head + block + tail)
            return
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(DOC_TEMPLATE.replace("{block}", block))


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (< 1 minute)")
    parser.add_argument("--workers", default=None,
                        help="gunicorn worker counts to measure, comma-separated "
                             "(default 2,3; with --quick 2)")
    parser.add_argument("--single-threads", type=int, default=0,
                        help="client threads posting single events (default 4 per worker)")
    parser.add_argument("--batch-threads", type=int, default=0,
                        help="client threads posting batches (default 4 per worker)")
    parser.add_argument("--queue-type", default="auto", choices=("auto", "quorum", "classic"))
    parser.add_argument("--broker-url", default=os.environ.get(
        "KOZOMOL_BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"))
    parser.add_argument("--postgres-url", default=os.environ.get(
        "KOZOMOL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--launcher", type=Path, default=None,
                        help="experiments: start the gateway as `python LAUNCHER gateway …` "
                             "instead of `kozomol gateway …`")
    parser.add_argument("--no-docs", action="store_true",
                        help=f"do not update {DOCS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    try:
        workers = args.workers or ("2" if args.quick else "2,3")
        args.workers = [int(w) for w in workers.split(",") if w.strip()]
    except ValueError:
        parser.error("--workers takes numbers such as 2 or 2,3")
    if not args.workers or not all(1 <= w <= 8 for w in args.workers):
        parser.error("--workers must be between 1 and 8")
    if not (0 <= args.single_threads <= 32 and 0 <= args.batch_threads <= 32):
        parser.error("client threads: at most 32")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for url in (args.broker_url, args.postgres_url):
        if "127.0.0.1" not in url and "localhost" not in url:
            raise SystemExit(f"refusing a non-local service: {url}")
    plan = QUICK if args.quick else FULL
    # A SIGTERM (or SIGHUP) to the benchmark still runs the clean-up below.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda s, _f: sys.exit(128 + s))

    rabbitmq, queue_type = broker_facts(args.broker_url, args.queue_type)
    facts = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()), "cpu": cpu_model(),
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "rabbitmq": rabbitmq, "queue_type": queue_type,
        "postgres": postgres_version(args.postgres_url),
        "workers": ", ".join(map(str, args.workers)),
        "gunicorn": gunicorn_facts(),
        "command": " ".join(["bench/gateway_intake.py", *(argv if argv is not None
                                                          else sys.argv[1:])]),
    }
    scratch = Scratch(args.postgres_url, args.broker_url)
    print(f"namespace {scratch.namespace}, database {scratch.database}, queues: {queue_type}, "
          f"RabbitMQ {rabbitmq}, PostgreSQL {facts['postgres']}, {facts['nproc']} cores",
          flush=True)
    secret = new_webhook_secret()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOZOMOL_")}
    env.update({
        "KOZOMOL_DATABASE_URL": scratch.database_url,
        "KOZOMOL_BROKER_URL": args.broker_url,
        "KOZOMOL_WEBHOOK_SECRETS": secret,
        "KOZOMOL_NAMESPACE": scratch.namespace,
        "KOZOMOL_QUEUE_TYPE": queue_type,
        "KOZOMOL_DATA_DIR": str(scratch.data_dir),
        "KOZOMOL_LOG_LEVEL": "WARNING",
    })
    topology = Topology(scratch.namespace, queue_type, 5)
    events = Events(scratch.run_id)
    meter = CpuMeter()
    results: list[Result] = []
    gateway: GatewayProcess | None = None
    queues = Queues(args.broker_url, scratch.namespace)
    try:
        scratch.create_database()
        subprocess.run([*_kozomol(), "db", "upgrade"], env=env, check=True, timeout=120,
                       cwd=ROOT, stdout=subprocess.DEVNULL)

        def raw(step: Step) -> Result:
            print(f"… {step.name}", flush=True)
            queues.empty()
            results.append(raw_step(args.broker_url, topology, events, step, meter))
            queues.check(results[-1])
            _progress(results[-1])
            return results[-1]

        def posted(step: Step, workers: int, url: str, kind: str = "gateway") -> Result:
            if not step.threads:
                threads = args.single_threads if step.per_call == 1 else args.batch_threads
                # By default 4 clients per gunicorn worker.
                step = replace(step, threads=threads or 4 * workers)
            print(f"… {step.name} ({workers} workers, {step.threads} client threads)",
                  flush=True)
            queues.empty()
            result = gateway_step(url, [secret], events, step, meter, workers=workers,
                                  kind=kind)
            if kind == "bare":
                result.queued = "ok"  # publishes nothing
            else:
                queues.check(result)
            results.append(result)
            _progress(result)
            return result

        sweep = [args.single_threads] if args.single_threads else list(plan.sweep)
        raw(plan.raw_single)
        gateway_results: list[Result] = []
        for workers in args.workers:
            bare = GatewayProcess(env, _free_port(), workers,
                                  scratch.data_dir / f"bare-{workers}.log", bare=True)
            try:
                bare.wait_ready()
                meter.gateway_pid = bare.process.pid
                bare_rates: dict[int, Result] = {}
                for clients in sweep:
                    bare_rates[clients] = posted(replace(plan.bare_single, threads=clients),
                                                 workers, bare.base + "/webhooks/kundoluk",
                                                 kind="bare")
            finally:
                bare.stop()
                meter.gateway_pid = None
            gateway = GatewayProcess({**env, "KOZOMOL_GATEWAY_WORKERS": str(workers)},
                                     _free_port(), workers,
                                     scratch.data_dir / f"gateway-{workers}.log",
                                     args.launcher)
            gateway.wait_ready()
            meter.gateway_pid = gateway.process.pid
            url = gateway.base + "/webhooks/kundoluk"
            # Every gunicorn thread opens its broker connection on its first publish.
            warmup = Step("warm-up", 1, 2 * 4 * workers, 2_000, plan.warmup_seconds)
            queues.empty()
            warm = gateway_step(url, [secret], events, warmup, meter, workers=workers,
                                kind="warmup")
            queues.check(warm)
            print(f"… {workers} workers, warm-up: {warm.events} single events, "
                  f"errors {dict(warm.errors) or 0}", flush=True)
            gateway_results.append(warm)
            for clients in sweep:
                result = posted(replace(plan.gateway_single, threads=clients), workers, url)
                result.ceiling = bare_rates[clients].rate
                result.ceiling_steps = [bare_rates[clients]]
                gateway_results.append(result)
            for raw_plan, gateway_plan in plan.windows:
                before = raw(raw_plan)
                result = posted(gateway_plan, workers, url)
                after = raw(replace(raw_plan, name=raw_plan.name + " (after)"))
                # The better of the two: other load can only make the gateway look worse.
                result.ceiling = max(before.rate, after.rate)
                result.ceiling_steps = [before, after]
                gateway_results.append(result)
            exited = gateway.process.poll()
            gateway.stop()
            gateway = None
            meter.gateway_pid = None
            if exited is not None:
                raise RuntimeError(f"the gateway with {workers} workers exited early ({exited})")

        checks = after_checks(scratch, [*results, *gateway_results],
                              sum(r.events for r in gateway_results))
    except Exception as exc:
        # A step failed (say, the broker went away): keep what was measured, but mark the
        # run as broken and leave the docs alone.
        traceback.print_exc()
        stopped = f"{exc.__class__.__name__}: {exc}"
        checks = [f"MISMATCH: the run stopped early ({stopped}); the rows above are partial"]
    finally:
        if gateway is not None:
            gateway.stop()
        problems = scratch.close()
        for problem in problems:
            print(f"clean-up failed: {problem}", file=sys.stderr)
        if not problems:
            print(f"clean-up: database {scratch.database} dropped, namespace "
                  f"{scratch.namespace} deleted", flush=True)

    block = results_block(args, facts, results, checks)
    print()
    print(block.replace(BEGIN, "").replace(END, "").strip())
    failed = any(r.errors for r in results) or any("MISMATCH" in c for c in checks)
    if not args.no_docs and not failed:
        write_docs(block)
        print(f"wrote {DOCS.relative_to(ROOT)}")
    if failed:
        print(f"\nFAILED: errors or mismatches above; {DOCS.relative_to(ROOT)} left as it was",
              file=sys.stderr)
    return 1 if failed or problems else 0


def after_checks(scratch: Scratch, results: Sequence[Result],
                 gateway_accepted: int) -> list[str]:
    """Every event acknowledged must be in both queues, and in the gateway's id table."""
    checks = [f"{r.label}: {r.queued}" for r in results if r.queued != "ok"]
    if not checks:
        checks.append(f"after each of the {len(results)} steps (warm-ups included), both "
                      "queues held exactly the events confirmed to the client: ok")
    with psycopg.connect(scratch.database_url, connect_timeout=5) as connection:
        row = connection.execute("SELECT count(*) FROM gateway_received_events").fetchone()
    recorded = int(row[0]) if row else -1
    state = "ok" if recorded == gateway_accepted else "MISMATCH"
    checks.append(f"gateway id table: {recorded:,} rows, {gateway_accepted:,} accepted: {state}")
    return checks


def _progress(result: Result) -> None:
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in result.cpu.items() if k != "machine_busy")
    print(f"  {result.events:,} events in {result.seconds:.1f} s = {result.rate:,.0f} events/s, "
          f"p50 {result.percentile(0.5):.1f} ms, p99 {result.percentile(0.99):.1f} ms, "
          f"errors {dict(result.errors) or 0}\n  CPU cores: {cpu}; machine "
          f"{100 * result.cpu.get('machine_busy', 0):.0f} % busy", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--bare-server"]:
        serve_bare(sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
