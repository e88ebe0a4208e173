"""prudent.data."""
