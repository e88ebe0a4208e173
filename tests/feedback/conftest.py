"""The store's log fixtures (every backend, the throwaway PostgreSQL), for the queue policy."""

from __future__ import annotations

from tests.store.conftest import log, migrated_postgres_url, open_log, postgres_url  # noqa: F401
