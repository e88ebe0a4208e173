"""prudent.feedback: what people review, and the labels they give.

:class:`QueuePolicy` decides which logged predictions enter the review queue and in what
order: every ``review`` (out-of-distribution first, then the lowest confidence, or the
highest expected cost when the bundle has a cost matrix, :func:`cost_table`) and a
deterministic audit slice of accepted predictions. The queue itself (cases, leases, claims)
is persisted by :mod:`prudent.store`; labels go through its feedback log.
:func:`case_dict` is a case as JSON data, for the command line; :func:`case_view` is a case
as the review page shows it (fields by name, values the training rows never held marked by
:func:`field_notes`); :func:`set_aside_case` skips or flags a case for both;
:func:`label_rate` counts the labels received lately (the dashboard's);
:func:`ingest_labels` records labels row by row and reports each row's :class:`LabelOutcome`
(``prudent feedback`` and ``POST /feedback`` call it); :class:`PredictionClasses` gives
each label the classes of the model that made its prediction. Label Studio:
:func:`task_of` and :func:`labeling_config` export cases as tasks, :func:`read_annotations`
reads an export back as labels.
"""

from __future__ import annotations

from prudent.feedback._actions import ASIDE, label_case, set_aside_case
from prudent.feedback._case_view import REASON_TEXT, CaseView, FieldView, case_view, field_notes
from prudent.feedback._classes import PredictionClasses
from prudent.feedback._ingest import LabelOutcome, ingest_labels, outcome_counts
from prudent.feedback._labelstudio import (
    LabelStudioLabels,
    labeling_config,
    read_annotations,
    task_of,
)
from prudent.feedback._neighbours import NearestRows, Neighbour
from prudent.feedback._policy import CostTable, QueuePolicy, audit_draw, cost_table
from prudent.feedback._stats import LabelRate, label_rate
from prudent.feedback._view import case_dict

__all__ = [
    "ASIDE",
    "REASON_TEXT",
    "CaseView",
    "CostTable",
    "FieldView",
    "LabelOutcome",
    "LabelRate",
    "LabelStudioLabels",
    "NearestRows",
    "Neighbour",
    "PredictionClasses",
    "QueuePolicy",
    "audit_draw",
    "case_dict",
    "case_view",
    "cost_table",
    "field_notes",
    "ingest_labels",
    "label_case",
    "label_rate",
    "labeling_config",
    "outcome_counts",
    "read_annotations",
    "set_aside_case",
    "task_of",
]
