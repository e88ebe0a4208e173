"""Exact k-nearest-neighbour distances to a sparse reference (TF-IDF text beside table columns).

A sparse OOD feature space mixes columns of very different density: a TF-IDF word is in a
few rows, while a numeric column or a frequent category is in most of them. A sparse product
pays every pair of rows that share a column, so those dense columns cost a multiply-add per
pair of rows each, in scattered memory: on a 10,000-row reference of short texts with six
numeric and a dozen categorical columns (6,977 columns, 33 stored values a row), 150,000
scattered multiply-adds a query row, and scikit-learn's brute-force search took 0.23 ms a
row of a 100,000-row batch.
Here the columns stored in at least :data:`DENSE_SHARE` of the reference rows are multiplied
as dense blocks (BLAS), the rest sparse, and the ``k`` smallest of each row are taken by ``k``
passes of ``argmin``, several times cheaper than a partition of the row, in blocks that fit
the processor's cache (:func:`~prudent.models._ood_neighbours.nearest_in_blocks`): 0.05 ms a row
on those texts, the same distances (the expansion ``|q|² + |r|² - 2 q·r``, clipped at 0, as
scikit-learn computes them), its products in single precision (:data:`_SEARCH`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from prudent._typing import FloatArray, IntArray
from prudent.models._ood_neighbours import nearest_in_blocks

try:  # a recent scikit-learn
    from sklearn.utils.sparsefuncs import sparse_matmul_to_dense as _to_dense
except ImportError:  # pragma: no cover - an older one: scipy's product
    _to_dense = None

__all__ = ["DENSE_SHARE", "SparseReference"]

_SEARCH = np.float32
"""The precision the products run in: single, twice as fast as double in the matrix
products and the ``argmin`` passes. The distances are then within a few parts in a million
of double precision's (2e-6 relative at most on 100,000 bird-strike rows against 10,000,
whose 5-neighbour distances are 1.1 and more), far below what sets a row apart; ``|q|²`` is
added in double precision."""

DENSE_SHARE = 0.1
"""Reference columns with a value in at least this share of rows are multiplied as dense
blocks. Timed on the benchmark's text tables: any share from 0.05 to 0.5 gives about the
same time, four times less than none; below 0.02 the dense block grows and costs more."""


def _sparse_product(A: sp.csr_matrix, B: sp.csr_matrix) -> FloatArray:
    """``A @ B`` as a dense array, written straight from the two sparse operands where
    scikit-learn offers it: scipy's product counts its entries in a first
    pass, builds a sparse result, then copies it out, three passes where one does."""
    if _to_dense is not None:
        return np.asarray(_to_dense(A, B), dtype=A.dtype)
    return np.asarray((A @ B).toarray(), dtype=A.dtype)


def _row_sq(X: sp.csr_matrix) -> FloatArray:
    return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()


@dataclass(frozen=True)
class SparseReference:
    """A sparse reference split for the search: its dense columns and the rest.

    Made from the fitted reference when a detector is loaded or fitted (never saved).
    """

    dense_columns: IntArray
    sparse_columns: IntArray
    dense: FloatArray
    """``(reference rows, dense columns + 1)``, C-ordered: those columns times -2, then each
    row's squared norm, so that one product with ``[q, 1]`` gives ``|r|² - 2 q·r``."""
    sparse_t: sp.csr_matrix
    """The other columns times -2, transposed: ``(sparse columns, reference rows)``."""
    r_sq: FloatArray
    """Squared norm of each reference row."""

    @classmethod
    def of(cls, R: sp.spmatrix, dense_share: float = DENSE_SHARE) -> SparseReference:
        """Split ``R``'s columns by the share of rows holding a value.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> ref = SparseReference.of(sp.csr_matrix([[1.0, 0.0, 2.0], [1.0, 0.0, 0.0]]), 0.6)
        >>> ref.dense_columns.tolist(), ref.sparse_columns.tolist()
        ([0], [1, 2])
        """
        R = sp.csr_matrix(R, dtype=np.float64)
        R.sum_duplicates()
        share = np.bincount(R.indices[R.data != 0], minlength=R.shape[1]) / max(R.shape[0], 1)
        dense_columns = np.flatnonzero(share >= dense_share)
        sparse_columns = np.flatnonzero(share < dense_share)
        r_sq = _row_sq(R)
        return cls(
            dense_columns,
            sparse_columns,
            np.ascontiguousarray(
                np.column_stack([-2.0 * R[:, dense_columns].toarray(), r_sq]), dtype=_SEARCH
            ),
            sp.csr_matrix(-2.0 * R[:, sparse_columns].T, dtype=_SEARCH),
            r_sq,
        )

    @property
    def rows(self) -> int:
        """Reference rows."""
        return int(self.r_sq.shape[0])

    def smallest_sq_distances(self, Q: sp.spmatrix, k: int) -> FloatArray:
        """The ``k`` smallest squared Euclidean distances from each row of ``Q`` to the
        reference, ascending.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> ref = SparseReference.of(sp.csr_matrix([[0.0, 1.0], [3.0, 1.0], [0.0, 0.0]]))
        >>> ref.smallest_sq_distances(sp.csr_matrix([[1.0, 1.0]]), 2).tolist()
        [[1.0, 2.0]]
        """
        Q = sp.csr_matrix(Q, dtype=np.float64)
        q_sq = _row_sq(Q)
        Q = sp.csr_matrix(Q, dtype=_SEARCH)
        Qd, Qs = Q[:, self.dense_columns], sp.csr_matrix(Q[:, self.sparse_columns])

        def half(rows: slice) -> FloatArray:
            g = _sparse_product(Qs[rows], self.sparse_t)  # -2 q·r over the rare columns
            q = np.ones((g.shape[0], len(self.dense_columns) + 1), dtype=_SEARCH)
            q[:, :-1] = Qd[rows].toarray()
            g += q @ self.dense.T  # and |r|² - 2 q·r over the dense ones
            return g

        return nearest_in_blocks(Q.shape[0], self.rows, q_sq, k, half)
