"""The migration's units of work (copy a part, replay shards) and the run's state."""
