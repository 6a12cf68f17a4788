"""Two-way item-by-item comparison of source and target (toolkit verify)."""
