"""Where snapshots are kept: the SQLite store that history reads, and baselines on disk.
May import core and model."""
