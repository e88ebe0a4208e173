"""prudent.scale."""
