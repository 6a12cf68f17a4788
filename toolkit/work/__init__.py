"""The migration's units of work: copy a segment, replay shards, write; the state."""
