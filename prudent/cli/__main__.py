"""``python -m prudent.cli``: the same entry point as the ``prudent`` command."""

from prudent.cli import main

main()
