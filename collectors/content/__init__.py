"""Opt-in file content: parsed by format, identity-normalised and secret-redacted on the controller
before anything is stored (docs/config-content.md)."""
