"""prudent.cli."""
