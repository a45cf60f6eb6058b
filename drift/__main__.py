"""`python -m drift`: the same entry point as the `drift` script."""

from drift.cli import entry

entry()
