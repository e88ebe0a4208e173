"""The k-NN search pruned by two-valued columns gives scikit-learn's neighbours, on real rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from prudent.data import infer_schema, load_example, validate_frame
from prudent.models._ood_detectors import KNNDistance
from prudent.models._ood_neighbours import group_reference, pruned_sq_distances
from prudent.models._ood_space import ood_feature_map
from tests.fixtures import mixed_frame, reviews


def _sklearn_sq(Q: np.ndarray, R: np.ndarray, k: int) -> np.ndarray:
    return NearestNeighbors(n_neighbors=k).fit(R).kneighbors(Q)[0] ** 2


@pytest.fixture(scope="module")
def mixed() -> np.ndarray:
    """The OOD feature space of a real table with numbers, categories and yes/no columns."""
    frame = mixed_frame(569, seed=0).drop(columns=["note", "row_id", "signup"])
    schema = infer_schema(frame, "target")
    X = validate_frame(frame.drop(columns="target"), schema)[0]
    return np.asarray(ood_feature_map(schema, X).transform(X), dtype=np.float64)


@pytest.fixture(scope="module")
def cancer() -> np.ndarray:
    """Breast-cancer measurements (20 columns, in units a tenth of their spread) beside two
    categories, one-hot: the diagnosis and the radius decile (rows sharing both lie near each
    other, far from the others)."""
    frame = load_example("breast_cancer")
    numbers = StandardScaler().fit_transform(frame.iloc[:, :20]) * 0.1
    decile = pd.qcut(frame["mean_radius"], 10, labels=False)
    onehot = pd.get_dummies(pd.DataFrame({"d": frame["target"], "r": decile.astype(str)}))
    return np.c_[numbers, onehot.to_numpy(dtype=np.float64)]


def test_group_reference_groups_rows_by_their_two_valued_columns(mixed):
    groups = group_reference(mixed)
    assert groups is not None
    assert sorted(np.concatenate(groups.rows).tolist()) == list(range(len(mixed)))
    for g, rows in enumerate(groups.rows):
        values = mixed[np.ix_(rows, groups.columns)]
        assert np.all(values == np.where(groups.bits[g], groups.high, groups.low))
    assert len(mixed) / len(groups.rows) >= 16


def test_pruned_search_gives_sklearn_distances_even_for_values_never_seen(mixed):
    """Forced to prune (``most=1``), whatever it saves; rows holding a value a two-valued
    column never took (0.5) are searched against every reference row."""
    R, Q = mixed[:400], mixed[400:].copy()
    groups = group_reference(R)
    Q[::7, groups.columns[0]] = 0.5
    got = pruned_sq_distances(Q, R, 10, groups, most=1.0)
    np.testing.assert_allclose(got, _sklearn_sq(Q, R, 10), rtol=1e-9, atol=1e-9)


def test_pruned_search_gives_up_when_it_would_compare_most_pairs(mixed):
    assert pruned_sq_distances(mixed, mixed, 10, group_reference(mixed), most=0.0) is None


def test_knn_distance_batch_prunes_and_matches_sklearn(cancer):
    """A batch of 2,500 rows near the real ones: each needs only its own categories' rows."""
    rng = np.random.default_rng(0)
    Q = cancer[rng.integers(0, len(cancer), 2500)]
    Q[:, :20] += rng.normal(scale=0.01, size=(2500, 20))
    assert pruned_sq_distances(Q, cancer, 10, group_reference(cancer)) is not None
    det = KNNDistance(n_neighbors=10).fit(cancer)
    nn = NearestNeighbors(n_neighbors=11).fit(cancer)
    np.testing.assert_allclose(det.unusualness(Q), nn.kneighbors(Q)[0][:, :10].mean(1), atol=1e-7)
    many = cancer[rng.integers(0, len(cancer), 2500)]  # rows of the reference: left out
    left_out = nn.kneighbors(many)[0][:, 1:].mean(1)
    np.testing.assert_allclose(det.unusualness_left_out(many), left_out, atol=1e-7)


def test_sparse_text_search_in_small_blocks_gives_the_whole_searchs_distances(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a search over sparse rows holds a block of distances at once; the blocks change nothing
    # in the answer, which is scikit-learn's brute-force search's (to the rounding of the
    # expansion |q|² + |r|² - 2 q·r in single precision, whose square root at a copy of a
    # row is about 2e-4: a mean of five distances 5e-5 off)
    from sklearn.feature_extraction.text import TfidfVectorizer

    from prudent.models import _ood_neighbours

    text = pd.concat([reviews(600, seed=0)["text"], reviews(200, seed=1)["text"]])
    Z = TfidfVectorizer(min_df=2).fit_transform(text)
    reference, queries = Z[:600], Z[600:]
    knn = KNNDistance().fit(reference)
    assert knn.index_ is not None  # sparse rows: searched by SparseReference
    whole = NearestNeighbors(n_neighbors=knn.index_.n_neighbors + 1).fit(knn._prep(reference))
    new, own = whole.kneighbors(knn._prep(queries))[0], whole.kneighbors(knn._prep(reference))[0]
    blocks = []
    for values in (2**20, 6000):  # 6000 values: blocks of 10 query rows
        monkeypatch.setattr(_ood_neighbours, "BLOCK_VALUES", values)
        blocks.append((knn.unusualness(queries), knn.unusualness_left_out(reference)))
    for scores, left_out in blocks:
        np.testing.assert_allclose(scores, new[:, :-1].mean(axis=1), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(left_out, own[:, 1:].mean(axis=1), rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(blocks[0][0], blocks[1][0])
    np.testing.assert_array_equal(blocks[0][1], blocks[1][1])


def test_sparse_search_with_dense_columns_gives_sklearn_distances() -> None:
    # TF-IDF words beside numbers and a frequent category, as a text table's OOD space holds:
    # the columns in most rows are multiplied as a dense block, the words sparse
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer

    from prudent.models._ood_sparse import SparseReference

    text = reviews(700, seed=0)["text"]
    rng = np.random.default_rng(0)
    numbers = rng.normal(size=(len(text), 3))
    shop = np.eye(3)[rng.choice(3, len(text), p=[0.6, 0.3, 0.1])]
    Z = sp.hstack([TfidfVectorizer(min_df=2).fit_transform(text), numbers, shop]).tocsr()
    reference, queries = Z[:500], Z[500:]
    ref = SparseReference.of(reference)
    n_words = Z.shape[1] - 6
    assert set(range(n_words, n_words + 5)) <= set(ref.dense_columns.tolist())
    assert len(ref.sparse_columns) > len(ref.dense_columns)
    for k in (1, 5, 12):  # 12: beyond the argmin passes, a partition
        got = ref.smallest_sq_distances(queries, k)
        want = NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(queries)[0] ** 2
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)  # single precision
        assert np.all(np.diff(got, axis=1) >= 0)


def test_tree_search_gives_sklearn_kd_tree_distances(cancer):
    # narrow rows keep a tree index; scipy's cKDTree answers, for a batch and for a few rows
    Z = StandardScaler().fit_transform(cancer[:, :3])
    reference, queries = Z[:400], np.vstack([Z[400:], Z[400:]] * 10)  # a batch of 3380 rows
    knn = KNNDistance().fit(reference)
    assert knn.index_ is not None and knn.index_.algorithm == "kd_tree"
    sk = NearestNeighbors(n_neighbors=6, algorithm="kd_tree").fit(reference)
    for rows in (queries, queries[:7]):
        want = sk.kneighbors(rows, n_neighbors=5)[0].mean(axis=1)
        np.testing.assert_allclose(knn.unusualness(rows), want, rtol=1e-12)
    own = sk.kneighbors(None, n_neighbors=5)[0].mean(axis=1)  # each row without itself
    np.testing.assert_allclose(knn.unusualness(None), own, rtol=1e-12)
    np.testing.assert_allclose(knn.unusualness_left_out(reference), own, rtol=1e-12)
    assert "_tree_" in knn.__dict__ and "_tree_" not in knn.__getstate__()  # made, not saved
