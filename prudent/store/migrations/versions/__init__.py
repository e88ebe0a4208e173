"""Versioned schema migrations of the prediction log, oldest first."""
