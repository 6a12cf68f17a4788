"""Pure logic: items, stream records, shard trees, table schemas, export lines. No I/O."""
