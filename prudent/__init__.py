"""prudent: from labeled data to a classifier people can trust in production."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
