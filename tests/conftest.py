import sys
from pathlib import Path

# `tests.lab` is imported as a package by lab tests and by `python -m tests.lab`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Real servers the tests start themselves (PostgreSQL), as fixtures any test may ask for.
pytest_plugins = ["tests.servers.fixtures"]
