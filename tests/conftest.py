import sys
from pathlib import Path

# `tests.lab` is imported as a package by lab tests and by `python -m tests.lab`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
