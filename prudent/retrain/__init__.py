"""prudent.retrain."""
