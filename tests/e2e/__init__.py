"""End-to-end runs of the real CLI: commands, refusals, kills and resumes, convergence."""
