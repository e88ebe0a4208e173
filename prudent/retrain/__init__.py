"""Learning from what comes back: the model registry (versions, aliases, history, rollback)."""

from prudent.retrain._records import Event, Version
from prudent.retrain._registry import CHALLENGER, CHAMPION, Registry

__all__ = ["CHALLENGER", "CHAMPION", "Event", "Registry", "Version"]
