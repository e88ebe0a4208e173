"""Alembic migrations of the prediction log (run by prudent.store at open)."""
