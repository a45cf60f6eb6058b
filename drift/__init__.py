"""drift: agentless environment drift and parity auditor."""

# The one place the version is written: pyproject.toml reads it from here ([tool.setuptools.dynamic]),
# so `drift --version`, snapshots, baselines and SARIF agree with the package and CHANGELOG.md.
__version__ = "0.2.0"
