"""prudent.feedback: what people review, and the labels they give.

:class:`QueuePolicy` decides which logged predictions enter the review queue and in what
order: every ``review`` (out-of-distribution first, then the lowest confidence) and a
deterministic audit slice of accepted predictions. The queue itself (cases, leases, claims)
is persisted by :mod:`prudent.store`; labels go through its feedback log.
:func:`case_dict` is a case as JSON data, for the command line and pages.
"""

from __future__ import annotations

from prudent.feedback._policy import QueuePolicy, audit_draw
from prudent.feedback._view import case_dict

__all__ = ["QueuePolicy", "audit_draw", "case_dict"]
