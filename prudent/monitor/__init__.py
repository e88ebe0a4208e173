"""prudent.monitor."""
