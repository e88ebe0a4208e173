"""prudent.serve."""
