"""The data that flows between stages: a host's snapshot (what collection produces and the store
keeps) and the report (what analysis produces and every format renders). May import core only."""
