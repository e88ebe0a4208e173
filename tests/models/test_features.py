"""Per-role preprocessing: the TF-IDF vocabulary saved as arrays, loaded back the same."""

from __future__ import annotations

import io
import zipfile

import skops.io as sio

from prudent.models._features import CompactTfidf
from tests.fixtures import reviews


def _round_trip(fitted: CompactTfidf) -> tuple[CompactTfidf, zipfile.ZipFile]:
    data = sio.dumps(fitted)
    back = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    return back, zipfile.ZipFile(io.BytesIO(data))


def test_compact_tfidf_round_trips_through_skops_as_a_few_arrays() -> None:
    text = reviews(600)["text"]
    fitted = CompactTfidf(ngram_range=(1, 2), sublinear_tf=True).fit(text)
    assert len(fitted.vocabulary_) > 5_000
    back, archive = _round_trip(fitted)
    assert back.vocabulary_ == fitted.vocabulary_
    assert (back.transform(text) != fitted.transform(text)).nnz == 0
    # a dict is written entry by entry (one file per value); the arrays are two files
    assert len(archive.namelist()) < 20
    assert "vocabulary_" in fitted.__dict__  # saving leaves the fitted object whole


def test_compact_tfidf_keeps_non_ascii_terms_and_an_empty_state() -> None:
    fitted = CompactTfidf().fit(["crème brûlée à Besançon", "Köln straße crème", "日本 語"])
    back, _ = _round_trip(fitted)
    assert back.vocabulary_ == fitted.vocabulary_ and "brûlée" in back.vocabulary_
    unfitted, _ = _round_trip(CompactTfidf(min_df=2))
    assert not hasattr(unfitted, "vocabulary_") and unfitted.min_df == 2
