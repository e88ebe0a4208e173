"""The defaults of the settings that ``prudent --help`` shows, importable without pydantic.

:class:`prudent.config.Settings` takes its defaults for these fields from here, so the command
line prints them in its help without importing pydantic-settings (and the server stack with it)
at every start of ``prudent predict`` or ``prudent fit``.

Examples
--------
>>> from prudent.config import Settings
>>> Settings.model_fields["port"].default == PORT
True
"""

from __future__ import annotations

__all__ = ["HOST", "LOG_DB", "MODEL_NAME", "PORT", "WORKERS"]

HOST = "127.0.0.1"
PORT = 8080
WORKERS = 1
LOG_DB = "sqlite:///prudent-log.db"
MODEL_NAME = "prudent"
