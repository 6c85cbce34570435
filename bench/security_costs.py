"""What issue 14's checks cost: validating a webhook batch, and one API read.

Run from the repository root::

    .venv/bin/python bench/security_costs.py [--repeat 20]

- ``parse_delivery`` of a 1,000-event batch of a simulated school (the
  reserved-type check and the nesting-depth walk run on every item);
- ``GET /api/v1/findings`` through Flask's test client on the embedded default
  (SQLite), which now authenticates with an expiry check, goes through the
  rate limiter and writes one access-log line.

Compare against a checkout without the change with ``PYTHONPATH=<that
checkout>`` (it then shadows this one; the script uses names both have).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace

import orjson

from kozomol.simulator.faults import FaultRates
from kozomol.simulator.run import SimulationSpec, school_events
from services.gateway.domain.intake import parse_delivery


def _best(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.2f} ms, best {min(samples) * 1000:.2f} ms"


def bench_parse(repeat: int) -> str:
    spec = SimulationSpec(seed=3, parallels=1, grades=(5,), terms=(1,),
                          rates=FaultRates.default())
    events = [event for _, event in zip(range(1000), school_events(spec), strict=False)]
    body = orjson.dumps({"events": events})
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        parse_delivery(body, max_events=1000)
        samples.append(time.perf_counter() - started)
    return f"parse_delivery, 1,000 events ({len(body) // 1024} KiB): {_best(samples)}"


def bench_api_read(repeat: int) -> str:
    os.environ["KOZOMOL_DATA_DIR"] = tempfile.mkdtemp(prefix="kozomol-bench-")
    from services.gateway.adapters.tokens import create_token
    from services.gateway.app import create_app
    from services.gateway.domain.access import Role
    from services.gateway.runtime import bootstrap
    from shared.db.migrations import upgrade
    from shared.settings import SERVICES, load_settings, new_webhook_secret

    settings = replace(load_settings(), webhook_secrets=(new_webhook_secret(),),
                       namespace="benchsec")
    upgrade(settings.database_url_for("gateway"), "gateway", SERVICES)
    gateway = bootstrap(settings)
    client = create_app(gateway).test_client()
    with gateway.engine.begin() as connection:
        token = create_token(connection, Role.DEPUTY, "shg48", teacher_id=None).token
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for _ in range(repeat * 10):
        started = time.perf_counter()
        assert client.get("/api/v1/findings", headers=headers).status_code == 200
        samples.append(time.perf_counter() - started)
    gateway.close()
    return f"GET /api/v1/findings (SQLite, empty): {_best(samples)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(bench_parse(args.repeat))
    print(bench_api_read(args.repeat))


if __name__ == "__main__":
    main()
