"""The README's two commands are the ones CI runs, as written (``.ci/run``)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    spec = importlib.util.spec_from_file_location("readme_commands",
                                                  ROOT / ".ci" / "readme_commands.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.readme_commands(ROOT / "README.md"))


def test_the_readme_starts_with_the_demo_then_the_tests() -> None:
    assert _readme_commands() == ["./dev demo", "./dev test"]


def test_ci_runs_every_readme_command_as_written() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "readme_commands.py README.md" in ci
    assert 'bash -c "$command"' in ci  # the line itself, no rewritten copy of it
    listed = subprocess.run(["python3", ".ci/readme_commands.py", "README.md"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\n")
    assert [line for line in listed if line] == _readme_commands()


def test_dev_knows_each_readme_command() -> None:
    usage = subprocess.run(["bash", "./dev"], cwd=ROOT, capture_output=True, text=True,
                           check=False)
    assert usage.returncode == 2
    for command in _readme_commands():
        assert command.removeprefix("./dev ") in usage.stderr
