"""Load generation: random puts and deletes on the source table (toolkit mutate)."""
