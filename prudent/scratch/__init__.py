"""prudent.scratch."""
