"""``python -m kozomol`` is the ``kozomol`` command."""

from kozomol.cli import main

main()
