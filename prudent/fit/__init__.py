"""prudent.fit."""
