"""Imported once by the fork server that starts the shadow's and the model's processes.

So that each shadow process is forked with what loading a bundle needs already imported: skops
first, without its walk over every scikit-learn module (:func:`prudent._compat.import_skops_io`,
as the command line does), then the bundle's loader and the two processes' own modules.
"""

from prudent._compat import import_skops_io

import_skops_io()

import prudent.bundle  # noqa: E402
import prudent.serve._model_process  # noqa: E402
import prudent.serve._shadow_process  # noqa: E402, F401
