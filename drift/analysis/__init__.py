"""Pure analysis over snapshots: align hosts by role, compare (differ, messages, versions), apply
policy, and the timeline of changes. No I/O. May import core and model."""
