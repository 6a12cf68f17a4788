"""The driver: the commands, the orchestration that plans and records a run."""
