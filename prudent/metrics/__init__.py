"""prudent.metrics."""
