"""Print the commands of the README's first shell block, one a line, comments dropped.

``.ci/run`` runs them exactly as the README writes them, so the two cannot
drift apart: what a new user types first is what CI proves first.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def readme_commands(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    block = re.search(r"```(?:sh|bash|shell|console)\n(.*?)```", text, re.S)
    if block is None:
        raise SystemExit(f"{readme}: no shell block")
    lines = (line.lstrip("$ ").split("#", 1)[0].strip() for line in block.group(1).splitlines())
    return [line for line in lines if line]


if __name__ == "__main__":
    print("\n".join(readme_commands(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))))
