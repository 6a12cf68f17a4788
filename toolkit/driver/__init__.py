"""The driver: the commands, and the one orchestration that plans and records a run."""
