"""The exported definitions file loads into the running RabbitMQ."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kombu import Connection

from tests.support import BROKER_URL

pytestmark = pytest.mark.integration
DEFINITIONS = Path(__file__).resolve().parents[2] / "deploy" / "rabbitmq" / "definitions.json"


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"rabbitmqctl {args[0]}: {done.stdout} {done.stderr}"
    return done.stdout


def test_definitions_file_imports_and_creates_the_topology() -> None:
    vhost = f"kozomol-import-{secrets.token_hex(4)}"
    document = json.loads(DEFINITIONS.read_text())
    text = json.dumps(document).replace('"vhost": "/"', f'"vhost": "{vhost}"')
    document = json.loads(text)
    document["vhosts"] = [{"name": vhost}]
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        # The broker's CLI reads the file as the broker's user: not from pytest's private tmp.
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir="/tmp") as handle:
            handle.write(json.dumps(document))
            handle.flush()
            os.chmod(handle.name, 0o644)
            rabbitmqctl("import_definitions", handle.name)
        url = urlsplit(BROKER_URL)._replace(path="/" + vhost).geturl()
        with Connection(url, connect_timeout=5) as connection:
            channel = connection.channel()
            for queue in document["queues"]:
                name, count, _ = channel.queue_declare(queue["name"], passive=True)
                assert (name, count) == (queue["name"], 0)
            for exchange in document["exchanges"]:
                channel.exchange_declare(exchange["name"], exchange["type"], passive=True)
        listed = rabbitmqctl("list_queues", "-p", vhost, "name", "type", "arguments")
        assert "kozomol.checker\tquorum" in listed
        assert "x-delivery-limit" in listed
        bindings = rabbitmqctl("list_bindings", "-p", vhost, "source_name", "destination_name",
                               "routing_key")
        assert "kozomol.events\tkozomol.checker\tmark.recorded" in bindings
        assert "kozomol.events\tkozomol.backup\t#" in bindings
    finally:
        rabbitmqctl("delete_vhost", vhost)
