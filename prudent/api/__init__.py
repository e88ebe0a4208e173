"""prudent.api."""
