"""prudent.serve: the protocol-free serving core that both HTTP APIs and the CLI call.

:class:`Predictor` runs the bundle off the event loop under a bounded number of slots, falls
back to the backup model and then to review when the primary path fails or is too slow, and
answers only once the prediction log has committed the rows. :class:`Shadow` scores the
same requests with a second bundle in a process of its own (``prudent serve --shadow``);
:class:`ModelProcess` scores the served bundle itself in one (``model_process``).
"""

from __future__ import annotations

from prudent.serve._admission import Admission, Ticket
from prudent.serve._batch import PredictionBatch, Tally
from prudent.serve._fallback import backup_answer, review_answer
from prudent.serve._health import Health, smoke_rows
from prudent.serve._limits import InputLimits, limit_error
from prudent.serve._metrics import CONTENT_TYPE, ServeMetrics, render_metrics
from prudent.serve._model_process import ModelProcess
from prudent.serve._predictor import Predictor, ServingOptions
from prudent.serve._rows import Records, Rows, as_frame
from prudent.serve._served import BackupFn, PrimaryFn, Served, check_replacement, smoke_error
from prudent.serve._service import Service
from prudent.serve._shadow import Shadow, ShadowOptions

__all__ = [
    "CONTENT_TYPE",
    "Admission",
    "BackupFn",
    "Health",
    "InputLimits",
    "ModelProcess",
    "PredictionBatch",
    "Predictor",
    "PrimaryFn",
    "Records",
    "Rows",
    "ServeMetrics",
    "Served",
    "Service",
    "ServingOptions",
    "Shadow",
    "ShadowOptions",
    "Tally",
    "Ticket",
    "as_frame",
    "backup_answer",
    "check_replacement",
    "limit_error",
    "render_metrics",
    "review_answer",
    "smoke_error",
    "smoke_rows",
]
