"""prudent.models."""
