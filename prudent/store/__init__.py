"""prudent.store."""
