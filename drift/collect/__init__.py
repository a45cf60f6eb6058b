"""Collection: inventory and targets, the one-exec script, the SSH transport (the only place that
imports Fabric), local runs, and parallel gathering into snapshots. May import core and model."""
