"""prudent.report."""
