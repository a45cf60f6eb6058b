"""Foundations every stage shares: errors and exit codes, output sanitising, atomic writes, TOML
with line numbers. Imports nothing from drift outside core."""
