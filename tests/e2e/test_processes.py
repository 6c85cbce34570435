"""The services as their real processes: gunicorn gateway + consumers, and ``kozomol serve``."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from kozomol.webhook_client import post_events
from services.backup.adapters.tables import journal
from shared.db.engine import make_engine
from shared.settings import Settings
from tests.support import BROKER_URL, free_port, kozomol_env, make_event, wait_for

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "first-events.json"


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], env: dict[str, str],
              cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen([sys.executable, "-m", "kozomol", *args], env=env,
                                       cwd=cwd, stdout=log, stderr=log)
        self.running.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text()

    def stop_all(self) -> list[int]:
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.running:
            try:
                codes.append(process.wait(30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path / "logs")
    yield running
    running.stop_all()


def cli(env: dict[str, str], *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kozomol", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_production_processes_take_webhooks_end_to_end(
    production_settings: Settings, processes: Processes, tmp_path: Path
) -> None:
    port = free_port()
    env = kozomol_env(database_url=production_settings.database_url, broker_url=BROKER_URL,
                      namespace=production_settings.namespace,
                      webhook_secrets=production_settings.webhook_secrets[0],
                      data_dir=str(tmp_path / "var"), delivery_limit="3")
    upgraded = cli(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert cli(env, "db", "upgrade").returncode == 0  # idempotent
    processes.start("gateway", ["gateway", "--port", str(port), "--workers", "2"], env)
    processes.start("backup", ["backup"], env)
    processes.start("checker", ["checker"], env)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=10) as client:
        def ready() -> bool:
            try:
                return client.get(f"{base}/readyz").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, timeout=60)
        events = [make_event() for _ in range(250)]
        secret_list = production_settings.webhook_secrets
        url = f"{base}/webhooks/kundoluk"
        for start in range(0, 250, 50):
            response = post_events(client, url, secret_list, events[start:start + 50])
            assert response.status_code == 202, response.text
        single = post_events(client, url, secret_list, [events[0]])
        assert single.json()["status"] == "duplicate"

        engine = make_engine(production_settings.database_url)

        def journal_count() -> int:
            with engine.connect() as connection:
                return int(connection.execute(
                    select(func.count()).select_from(journal)).scalar_one())

        wait_for(lambda: journal_count() == 250, timeout=60)
        engine.dispose()
        # Metrics are aggregated across the gunicorn workers.
        metrics = client.get(f"{base}/metrics").text
        assert 'kozomol_webhook_requests_total{status="202"} 6.0' in metrics
        token = cli(env, "tokens", "create", "--role", "auditor", "--school", "shg48")
        assert token.returncode == 0, token.stderr
        me = client.get(f"{base}/api/v1/me",
                        headers={"Authorization": f"Bearer {token.stdout.strip()}"})
        assert me.json() == {"role": "auditor", "school_id": "shg48",
                             "token_id": me.json()["token_id"]}
    assert processes.stop_all() == [0, 0, 0], processes.log("gateway")
    for name in ("gateway", "backup", "checker"):
        for line in processes.log(name).splitlines():
            if line.startswith("{"):
                record = orjson.loads(line)  # structured JSON logs
                assert "level" in record and "message" in record
                assert "Үсөнов" not in line  # no personal data in logs


def test_kozomol_serve_runs_everything_in_one_process(
    processes: Processes, tmp_path: Path
) -> None:
    port = free_port()
    env = kozomol_env(data_dir=str(tmp_path / "var"), http_port=str(port))
    serve = processes.start("serve", ["serve"], env)
    base = f"http://127.0.0.1:{port}"

    def ready() -> Any:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return serve.poll() is not None  # stop waiting if it died

    wait_for(ready, timeout=60)
    assert serve.poll() is None, processes.log("serve")
    sent = cli(env, "webhook", "send", str(EXAMPLE))
    assert sent.returncode == 0, sent.stderr
    assert '"accepted":3' in sent.stdout
    token = cli(env, "tokens", "create", "--role", "deputy", "--school", "shg48")
    assert token.returncode == 0, token.stderr
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    quarantined = httpx.get(f"{base}/api/v1/quarantine", headers=headers).json()["items"]
    assert [item["event_id"] for item in quarantined] == ["evt_demo_mark_broken"]
    record = httpx.get(f"{base}/api/v1/received-events/evt_demo_mark_1", headers=headers).json()
    assert record["stored_in"] == "broker"
    database = tmp_path / "var" / "backup.sqlite3"  # each service its own file
    engine = make_engine(f"sqlite:///{database}")

    def journal_ids() -> list[str]:
        with engine.connect() as connection:
            return list(connection.execute(select(journal.c.event_id)).scalars())

    assert sorted(wait_for(lambda: journal_ids() if len(journal_ids()) == 3 else None)) == [
        "evt_demo_calendar_2026", "evt_demo_lesson_1", "evt_demo_mark_1"]
    engine.dispose()
    assert processes.stop_all() == [0]


def test_kozomol_serve_with_a_relative_data_dir_says_first_where_it_listens(
    processes: Processes, tmp_path: Path
) -> None:
    """From any working directory: ``KOZOMOL_DATA_DIR=var`` is that directory's ``var``."""
    workdir = tmp_path / "school"
    workdir.mkdir()
    port = free_port()
    env = kozomol_env(data_dir="var", http_port=str(port))
    serve = processes.start("serve", ["serve"], env, cwd=workdir)
    base = f"http://127.0.0.1:{port}"

    def ready() -> Any:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return serve.poll() is not None

    wait_for(ready, timeout=60)
    assert serve.poll() is None, processes.log("serve")
    # Every service's database and the generated secret are in <workdir>/var.
    assert {path.name for path in (workdir / "var").iterdir()} >= {
        "gateway.sqlite3", "checker.sqlite3", "printer.sqlite3", "backup.sqlite3",
        "webhook-secret"}
    lines = processes.log("serve").splitlines()
    assert lines[0] == f"Kozomol serves {base}", lines[:5]
    assert any("kozomol tokens create --role deputy" in line for line in lines[:8])
    first_json = next(i for i, line in enumerate(lines) if line.startswith("{"))
    assert first_json >= 5  # the banner comes before the first log line
    token = cli(env, "tokens", "create", "--role", "deputy", "--school", "shg48", cwd=workdir)
    assert token.returncode == 0, token.stderr
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token.stdout.strip()}"})
    assert me.status_code == 200  # the token was stored where the served gateway reads
    assert processes.stop_all() == [0]
