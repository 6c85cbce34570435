"""No service imports another; shared/ imports no service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "checker", "printer", "backup", "notifier")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    others = tuple(f"services.{other}" for other in SERVICES if other != service)
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path)
                                            if m.startswith(others))
        for path in (ROOT / "services" / service).rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_shared_imports_no_service() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path)
                                            if m.startswith(("services", "kozomol")))
        for path in (ROOT / "shared").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_domain_layers_do_no_io() -> None:
    forbidden = ("flask", "kombu", "amqp", "sqlalchemy", "psycopg", "httpx", "requests")
    offenders = {}
    for path in (ROOT / "services").glob("*/domain/*.py"):
        bad = sorted(m for m in imported_modules(path) if m.split(".")[0] in forbidden)
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}
