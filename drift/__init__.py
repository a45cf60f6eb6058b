"""drift: agentless environment drift and parity auditor."""

__version__ = "0.1.0"
