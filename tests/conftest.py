import sys
from pathlib import Path

# `tests.lab` is imported as a package by lab tests and by `python -m tests.lab`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Real servers the tests start themselves (PostgreSQL), as fixtures any test may ask for.
pytest_plugins = ["tests.servers.fixtures"]

# Hypothesis profiles (docs/fuzzing.md). `default` keeps every property test to a few seconds; `ci`
# (chosen when $CI is set, as .ci/run does) is the same budget derandomised, with no example
# database, so a run's verdict depends on the commit alone; `long` is the nightly run:
# `python3 -m pytest --hypothesis-profile=long -m fuzz`. Locally, failing examples are kept outside
# the checkout (a saved example replays until fixed, but never turns a clean clone red).
import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "drift-hypothesis"
settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=_QUIET,
                          database=DirectoryBasedExampleDatabase(str(_CACHE)))
settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=_QUIET,
                          derandomize=True, database=None, print_blob=True)
settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=_QUIET,
                          print_blob=True, database=DirectoryBasedExampleDatabase(str(_CACHE)))
settings.load_profile(os.environ.get("DRIFT_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default"))
