"""prudent.feedback."""
