"""prudent.bundle."""
