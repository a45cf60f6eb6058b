import sys
from pathlib import Path

# `tests.lab` is imported as a package by lab tests and by `python -m tests.lab`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Real servers the tests start themselves (PostgreSQL), as fixtures any test may ask for.
pytest_plugins = ["tests.servers.fixtures"]

# Hypothesis profiles (docs/fuzzing.md). `default` keeps every property test to a few seconds in CI;
# `long` is the nightly run: `python3 -m pytest --hypothesis-profile=long -m fuzz`.
from hypothesis import HealthCheck, settings  # noqa: E402

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("default", max_examples=40, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("long", max_examples=10_000, deadline=None, suppress_health_check=_QUIET,
                          print_blob=True)
settings.load_profile("default")
