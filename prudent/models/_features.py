"""Per-role preprocessing, built from a :class:`~prudent.data.Schema`.

Three styles serve the model families: ``linear`` (impute + scale, one-hot, TF-IDF;
sparse), ``tree`` (raw numbers with NaN, ordinal categories, TF-IDF) and ``dense``
(like linear, but dense, with TF-IDF reduced by truncated SVD) for k-NN, MLP and
forests. Text can also be embedded with a sentence-embedding model
(:class:`SentenceEmbedder`, the ``embeddings`` extra).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import validate_data

from prudent._compat import check_is_fitted
from prudent._typing import FloatArray
from prudent.data import Role, Schema
from prudent.models._compact import (
    CompactOneHotEncoder,
    CompactOrdinalEncoder,
    pack_strings,
    unpack_strings,
)
from prudent.models._text_counts import (
    UNSPACED_LETTERS,
    analysing_once,
    batch_texts,
    term_counts,
)

__all__ = [
    "VOCABULARY_CHARS",
    "CompactTfidf",
    "DatetimeFeatures",
    "Style",
    "dense_width",
    "make_preprocessor",
    "text_only_preprocessor",
    "text_vocabulary",
    "vocabulary_sample",
]

Style = Literal["linear", "tree", "dense"]
_MAX_CATEGORIES = 50


def fill_text(column: Any) -> Any:
    """Return a 1-D array of strings, missing values as empty strings (for TF-IDF)."""
    values = pd.Series(np.asarray(column, dtype=object).ravel())
    return values.where(values.notna(), "").astype(str).to_numpy()


class DatetimeFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Expand date/time columns into numeric parts a model can use.

    Each column becomes year, month, day, day of week, day of year, hour and days since
    1970; missing stays missing (NaN and NaT are accepted). Columns may be datetimes or
    text that parses as one (unparsable text is missing).

    Parameters
    ----------
    absolute
        Keep the parts that only grow with time (year, days since 1970). ``False`` keeps the
        calendar's cycles alone (month, day, day of week, day of year, hour): what the OOD
        detector reads, since every row a model meets after its fit lies past the training
        dates, and by the absolute parts alone each would look out of distribution.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"d": pd.to_datetime(["2024-03-01 10:00", None])})
    >>> DatetimeFeatures().fit_transform(X)[0].tolist()
    [2024.0, 3.0, 1.0, 4.0, 61.0, 10.0, 19783.0]
    >>> DatetimeFeatures(absolute=False).fit_transform(X)[0].tolist()
    [3.0, 1.0, 4.0, 61.0, 10.0]
    """

    _PARTS = ("year", "month", "day", "day_of_week", "day_of_year", "hour")
    _ABSOLUTE = frozenset({"year", "days"})

    def __init__(self, absolute: bool = True) -> None:
        self.absolute = absolute

    def __sklearn_tags__(self) -> Any:
        """Declare that missing values (they stay missing) and text are accepted."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags

    def _parts(self) -> tuple[str, ...]:
        # bundles saved before the option carry no attribute: they kept every part
        keep_all = getattr(self, "absolute", True)
        return tuple(p for p in (*self._PARTS, "days") if keep_all or p not in self._ABSOLUTE)

    def fit(self, X: pd.DataFrame, y: Any = None) -> DatetimeFeatures:
        """Record the number (and names) of the input columns."""
        validate_data(self, X, dtype=None, ensure_all_finite=False)
        return self

    def transform(self, X: pd.DataFrame) -> FloatArray:
        """Return the parts of every column side by side."""
        check_is_fitted(self, "n_features_in_")
        checked = validate_data(self, X, dtype=None, ensure_all_finite=False, reset=False)
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(checked)
        blocks = []
        for name in frame.columns:
            s = pd.to_datetime(frame[name], errors="coerce")
            for part in self._parts():
                if part == "days":
                    epoch = (s - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
                    blocks.append(np.floor(epoch.astype("float64")))
                else:
                    blocks.append(getattr(s.dt, part).astype("float64"))
        return np.column_stack(blocks).astype(np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """Names such as ``date__month``."""
        default = [f"x{i}" for i in range(self.n_features_in_)]
        names = getattr(self, "feature_names_in_", default)
        return np.asarray([f"{c}__{p}" for c in names for p in self._parts()], dtype=object)


class CappedSVD(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Truncated SVD that keeps at most ``n_features - 1`` components.

    A text column with a small vocabulary has fewer TF-IDF features than the components
    asked for; plain ``TruncatedSVD`` refuses that, this keeps what the data allows.

    Parameters
    ----------
    n_components
        The most components to keep.
    random_state
        Seed of the randomized solver.

    Examples
    --------
    >>> import numpy as np
    >>> CappedSVD(n_components=10).fit_transform(np.eye(4)).shape
    (4, 3)
    """

    def __init__(self, n_components: int = 100, random_state: int | None = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        """Declare that sparse input (TF-IDF) is accepted."""
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def fit(self, X: Any, y: Any = None) -> CappedSVD:
        """Fit the SVD with the number of components the data allows."""
        X = validate_data(self, X, accept_sparse=("csr", "csc"))
        k = max(1, min(self.n_components, X.shape[1] - 1, X.shape[0] - 1))
        self.svd_ = TruncatedSVD(n_components=k, random_state=self.random_state).fit(X)
        return self

    def transform(self, X: Any) -> FloatArray:
        """Project onto the kept components."""
        check_is_fitted(self, "svd_")
        X = validate_data(self, X, accept_sparse=("csr", "csc"), reset=False)
        return np.asarray(self.svd_.transform(X), dtype=np.float64)

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        """Names ``svd0`` … ``svd{k-1}``."""
        return np.asarray([f"svd{i}" for i in range(self.svd_.n_components)], dtype=object)


_NO_TERMS = "\x00no terms"
"""The one term of a text column with none: no document holds it, so its column is zero."""


def _no_terms(exc: ValueError) -> bool:
    """Whether scikit-learn refused a text column for having no term left."""
    text = str(exc)
    return "empty vocabulary" in text or "no terms remain" in text


_UNSPACED = re.compile(UNSPACED_LETTERS)
_WORD_CHARACTER = re.compile(r"[^\W\d_]")
_SAMPLE_TEXTS = 2000


def written_unspaced(texts: list[Any]) -> bool:
    """Whether most letters of these texts (the first :data:`_SAMPLE_TEXTS`) belong to scripts
    written without spaces between words.

    Examples
    --------
    >>> written_unspaced(["邮车上午顺利到达多佛。", "乔治王旅馆的帐房先生", "The mail arrived."])
    True
    >>> written_unspaced(["The mail arrived at Dover.", "邮车"])
    False
    """
    sample = " ".join(str(t) for t in texts[:_SAMPLE_TEXTS])
    letters = len(_WORD_CHARACTER.findall(sample))
    return letters > 0 and len(_UNSPACED.findall(sample)) > letters / 2


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
SINGLE_WORDS = 1.5
"""Mean words a text (of those not empty) below which a column is single words: names,
words, codes, which only their letters relate (a word seen once teaches nothing as a word).
Never-seen tables: thesaurus words to 40 categories, balanced accuracy .213 as words, .429
as character 2-5-grams; moral-foundation terms to 10, .130 and .756 (a logistic regression
each); speeches of 42 words, .567 as words, .523 as characters."""


def _reading(texts: list[Any]) -> dict[str, Any]:
    """How to read these texts, as TF-IDF parameters: characters and pairs of characters
    for scripts written without spaces, character 2-5-grams within words for single words,
    else as configured (words and pairs of words).

    Examples
    --------
    >>> _reading(["compassion", "empathy", "", "kindness"])
    {'analyzer': 'char_wb', 'ngram_range': (2, 5)}
    >>> _reading(["a kind word", "empathy"])
    {}
    """
    if written_unspaced(texts):
        return {"analyzer": "char", "ngram_range": (1, 2)}
    words = [len(_TOKEN.findall(str(t))) for t in texts[:_SAMPLE_TEXTS] if str(t).strip()]
    if words and sum(words) / len(words) < SINGLE_WORDS:
        return {"analyzer": "char_wb", "ngram_range": (2, 5)}
    return {}


VOCABULARY_CHARS = 3_000_000
"""Characters of text a TF-IDF step chooses its terms from (a seeded sample of the texts when
they hold more; all of them are then counted with those terms and weighted by their IDF over
all). Counting every word and pair of words while choosing them costs about 0.3 µs per
character, five times what counting known terms does: 6,400 texts of 2,900 characters took
4.6 s per fit, so a 60 s fit ran the logistic baseline alone, on a quarter of the rows; 1,600
texts of 17,000 characters ran 74 s. The first 3M characters are about 2,000 texts of a
review's length: no table the benchmark holds reaches it."""


def vocabulary_sample(texts: list[Any], chars: int | None = None) -> list[Any] | None:
    """A seeded sample of ``texts`` (in a random order, until ``chars`` characters, by
    default :data:`VOCABULARY_CHARS`), or ``None`` when they hold no more.

    Examples
    --------
    >>> texts = ["word " * 10] * 100  # 5,000 characters
    >>> vocabulary_sample(texts) is None, len(vocabulary_sample(texts, chars=1_000))
    (True, 20)
    >>> vocabulary_sample(["word " * 1_000], chars=1_000) is None  # one text: all of it
    True
    """
    chars = VOCABULARY_CHARS if chars is None else chars
    lengths = np.fromiter((len(t) if isinstance(t, str) else 0 for t in texts), np.int64)
    if int(lengths.sum()) <= chars:
        return None
    order = np.random.default_rng(0).permutation(len(texts))
    n = max(1, int(np.searchsorted(np.cumsum(lengths[order]), chars, side="right")))
    if n >= len(texts):  # a single text longer than the sample: all of it
        return None
    return [texts[i] for i in np.sort(order[:n])]


class CompactTfidf(TfidfVectorizer):  # type: ignore[misc]
    """``TfidfVectorizer`` whose saved vocabulary is two arrays instead of a dict of strings.

    skops writes a dict entry by entry: a 50,000-term vocabulary took 170 s and 30 MB to
    save (on 2 loaded cores); as UTF-8 bytes plus end offsets it takes 0.04 s and 1 MB. The
    parameters, the fit and the transform are ``TfidfVectorizer``'s; only the saved state
    differs, and loading rebuilds the same ``vocabulary_``.

    Examples
    --------
    >>> import pickle
    >>> v = CompactTfidf().fit(["a tiny corpus", "a small corpus"])
    >>> back = pickle.loads(pickle.dumps(v))
    >>> "vocabulary_" in v.__getstate__(), back.vocabulary_ == v.vocabulary_
    (False, True)
    """

    def fit(self, raw_documents: Any, y: Any = None) -> CompactTfidf:
        """Fit as :meth:`fit_transform` does (with its fallbacks); return ``self``."""
        self.fit_transform(raw_documents, y)
        return self

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        """``TfidfVectorizer.fit_transform``, falling back when no word survives.

        Text written without spaces between words (Chinese, Japanese, Thai…,
        :func:`written_unspaced`) is read as characters and pairs of characters: its "words"
        by the token pattern are whole clauses, which seldom recur. Single words (a mean
        below :data:`SINGLE_WORDS`) are read as character 2-5-grams within words.

        A column of one-character notes, whitespace, or identifiers that each occur once
        has no word kept by the token pattern and ``min_df``: scikit-learn then raises
        ("empty vocabulary", "no terms remain"), which stopped the whole fit. Such a column
        is read as character 1–3-grams within words instead, and when even those are none
        (every text empty) as one all-zero term, so the fit goes on without it.
        """
        docs = list(raw_documents)
        sample = vocabulary_sample(docs)
        if sample is not None:  # the terms chosen on a sample, counted in every text
            chooser = clone(self)
            chooser.fit(sample)
            self.set_params(**(chooser.get_params() | {"vocabulary": chooser.vocabulary_}))
            matrix = super().fit_transform(docs, y)
            self.set_params(vocabulary=None)  # kept as the fitted vocabulary_ alone
            return matrix
        first = _reading(docs)
        for fallback in (first, {"analyzer": "char_wb", "ngram_range": (1, 3)}, {"min_df": 1}):
            self.set_params(**fallback)
            try:
                return super().fit_transform(docs, y)
            except ValueError as exc:
                if not _no_terms(exc):
                    raise
        self.set_params(analyzer="word", ngram_range=(1, 1), vocabulary={_NO_TERMS: 0})
        return super().fit_transform(docs, y)

    def _count_vocab(self, raw_documents: Any, fixed_vocab: bool) -> Any:
        """A transform within a :func:`~prudent.models._text_counts.texts_analysed_once`
        block counts by :func:`~prudent.models._text_counts.term_counts`, the batch's
        analysis shared with alike steps: the same matrix as scikit-learn's loop, which
        fitting and every other transform run (alone, it is a tenth faster)."""
        if not fixed_vocab or not analysing_once():
            return super()._count_vocab(raw_documents, fixed_vocab)
        counts = term_counts(batch_texts(self, raw_documents), self.vocabulary_, self.dtype)
        return self.vocabulary_, counts

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())  # never the live __dict__
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            terms = sorted(vocabulary, key=vocabulary.__getitem__)
            state["terms_utf8_"], state["term_ends_"] = pack_strings(terms)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        data, ends = state.pop("terms_utf8_", None), state.pop("term_ends_", None)
        if data is not None and ends is not None:
            state["vocabulary_"] = {t: i for i, t in enumerate(unpack_strings(data, ends))}
        super().__setstate__(state)


def _numeric(style: Style) -> Pipeline | str:
    if style == "tree":
        return "passthrough"
    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )


def _categorical(style: Style) -> Pipeline:
    impute = SimpleImputer(strategy="constant", fill_value="__missing__", keep_empty_features=True)
    if style == "tree":
        return make_pipeline(
            impute,
            CompactOrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64
            ),
        )
    return make_pipeline(
        impute,
        CompactOneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=3,
            max_categories=_MAX_CATEGORIES,
            sparse_output=style != "dense",
        ),
    )


def _text(style: Style, n_rows: int, max_features: int, svd: int, seed: int) -> Pipeline:
    tfidf = CompactTfidf(
        sublinear_tf=True,
        ngram_range=(1, 2),
        # the dense style keeps an SVD of the vocabulary (components x terms floats) in
        # the bundle: a smaller vocabulary keeps it light and changes little after SVD
        max_features=min(max_features, 10_000) if style == "dense" else max_features,
        min_df=2 if n_rows >= 200 else 1,
        strip_accents="unicode",
        dtype=np.float32 if style == "dense" else np.float64,
    )
    steps: list[Any] = [FunctionTransformer(fill_text), tfidf]
    if style == "dense":
        steps.append(CappedSVD(n_components=svd, random_state=seed))
    return make_pipeline(*steps)


COEFFICIENTS = 1_000_000
"""Coefficients a linear model keeps per text column (8 MB): one per class and term, so the
vocabulary shrinks as classes grow (:func:`text_vocabulary`). Thesaurus words to 40
categories read as character n-grams kept 23,000 terms: four such models (the logistic
regression, the linear SVM's three calibration folds) made 29 MB of a 22 MB bundle's
34 MB uncompressed; at 300 classes they would have made 220 MB."""


def text_vocabulary(n_classes: int) -> int:
    """The TF-IDF vocabulary cap for ``n_classes`` classes: :data:`COEFFICIENTS` per class
    (one set of coefficients for two), between 2,000 and 50,000 terms.

    Examples
    --------
    >>> text_vocabulary(2), text_vocabulary(20), text_vocabulary(40), text_vocabulary(900)
    (50000, 50000, 25000, 2000)
    """
    rows = 1 if n_classes <= 2 else n_classes
    return int(min(50_000, max(2_000, COEFFICIENTS // rows)))


def make_preprocessor(
    schema: Schema,
    style: Style,
    *,
    n_rows: int,
    seed: int = 0,
    text_max_features: int = 50_000,
    text_svd: int = 100,
    absolute_dates: bool = True,
) -> ColumnTransformer:
    """Build the column transformer for one model family.

    Parameters
    ----------
    schema
        The column roles.
    style
        ``"linear"``, ``"tree"`` or ``"dense"`` (see the module docstring).
    n_rows
        Training rows; small data gets a smaller TF-IDF vocabulary floor.
    seed
        Seed for the SVD of text in the dense style.
    text_max_features
        Vocabulary size cap per text column.
    text_svd
        Components kept per text column in the dense style.
    absolute_dates
        Keep the date parts that only grow with time (:class:`DatetimeFeatures`).

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; unknown categories at predict time are handled, not errors.
    """
    parts: list[tuple[str, Any, Any]] = []
    numeric = schema.names(Role.numeric, Role.boolean)
    if numeric:
        parts.append(("num", _numeric(style), numeric))
    dates = schema.names(Role.datetime)
    if dates:
        after: Any = _numeric(style)
        date_steps = [DatetimeFeatures(absolute=absolute_dates)]
        date_steps += [] if after == "passthrough" else [after]
        parts.append(("date", make_pipeline(*date_steps), dates))
    categorical = schema.names(Role.categorical)
    if categorical:
        parts.append(("cat", _categorical(style), categorical))
    svd = max(2, min(text_svd, n_rows // 4))
    for name in schema.names(Role.text):
        parts.append((f"text_{name}", _text(style, n_rows, text_max_features, svd, seed), name))
    return ColumnTransformer(
        parts,
        remainder="drop",
        sparse_threshold=0.0 if style == "dense" else 0.3,
        verbose_feature_names_out=True,
    )


def dense_width(schema: Schema, *, n_rows: int, text_svd: int = 100) -> int:
    """An upper estimate of how many features the ``dense`` style makes from ``schema``.

    Numbers count twice (value and missing indicator), dates seven parts each, categories
    their levels up to the one-hot cap, text its SVD components.

    Examples
    --------
    >>> import pandas as pd
    >>> from prudent.data import infer_schema
    >>> df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["x", "y", "x"], "t": [0, 1, 0]})
    >>> dense_width(infer_schema(df, "t"), n_rows=3)
    4
    """
    width = 2 * len(schema.names(Role.numeric, Role.boolean))
    width += 14 * len(schema.names(Role.datetime))
    width += sum(
        min(c.n_unique, _MAX_CATEGORIES) for c in schema.features if c.role is Role.categorical
    )
    svd = max(2, min(text_svd, n_rows // 4))
    return max(1, width + svd * len(schema.names(Role.text)))


def text_only_preprocessor(
    schema: Schema, *, n_rows: int, text_max_features: int = 50_000
) -> ColumnTransformer:
    """TF-IDF of every text column and nothing else (non-negative, for naive Bayes), each
    vocabulary capped at ``text_max_features`` terms."""
    parts: list[tuple[str, Any, Any]] = [
        (f"text_{name}", _text("linear", n_rows, text_max_features, 0, 0), name)
        for name in schema.names(Role.text)
    ]
    return ColumnTransformer(parts, remainder="drop")
