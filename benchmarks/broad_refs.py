"""The references of the broad benchmark, fitted on the same train.csv, scored on the same rows.

Classifiers: the majority class (train frequencies), prudent's logistic baseline (its own
schema inference and preprocessing), LightGBM with default parameters, LightGBM with
``class_weight="balanced"``, and LightGBM + plain temperature scaling (trees on a stratified
80% of train.csv, the temperature on the other 20%, fitted to the 0/1 labels), each on one
thread (OpenMP barriers stall when a shared machine is oversubscribed). LightGBM sees numeric
columns as they are, categorical columns as pandas categories (levels from train; unseen
levels missing) and each text column as a 64-component TruncatedSVD of its word TF-IDF
(min_df=2, fit on train).

OOD references, scored on test (in) vs ood (out): 1 - max-probability of LightGBM (defaults), and
the k-NN distance: the mean Euclidean distance to the 5 nearest training rows (a seeded sample of
at most 10,000) in a space of standardised numeric columns (median-imputed), one-hot categorical
columns (levels seen at least 5 times in train) and, per text column, the same TF-IDF -> SVD
components, standardised.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from scipy.special import softmax
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from benchmarks.broad_data import Task
from prudent.data import infer_schema, validate_frame
from prudent.models import logistic_baseline
from prudent.models._calibration_maps import EPS_IN, _fit_temperature, clip_normalise

__all__ = ["KNN_K", "reference_ood", "reference_probas"]

SEED = 0
SVD_COMPONENTS = 64
KNN_K = 5
KNN_REFERENCE_ROWS = 10_000


def _columns(task: Task, frame: pd.DataFrame) -> tuple[list[str], list[str], list[str]]:
    m = task.meta
    keep = [c for c in frame.columns if c != task.target]
    text = [c for c in m.get("text_columns", []) if c in keep]
    cat = [c for c in m.get("categorical_columns", []) if c in keep and c not in text]
    num = [c for c in keep if c not in text and c not in cat]
    return num, cat, text


def _text_svd(train: pd.Series) -> Any:
    tfidf = TfidfVectorizer(min_df=2, max_features=20_000, dtype=np.float32)
    docs = train.fillna("").astype(str)
    n = min(SVD_COMPONENTS, max(1, len(tfidf.fit(docs).vocabulary_) - 1))
    return make_pipeline(tfidf, TruncatedSVD(n_components=n, random_state=SEED)).fit(docs)


class LgbmFeatures:
    """Numeric as is, categoricals as pandas categories, text as TF-IDF -> SVD (fit on train)."""

    def __init__(self, task: Task, train: pd.DataFrame) -> None:
        self.num, self.cat, self.text = _columns(task, train)
        self.levels = {c: train[c].dropna().astype(str).unique().tolist() for c in self.cat}
        self.svd = {c: _text_svd(train[c]) for c in self.text}

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        parts = [frame[self.num].apply(pd.to_numeric, errors="coerce").astype(float)]
        for c in self.cat:
            values = frame[c].astype("string").astype(object).where(frame[c].notna())
            parts.append(pd.Series(pd.Categorical(values, categories=self.levels[c]), name=c))
        for c in self.text:
            z = self.svd[c].transform(frame[c].fillna("").astype(str))
            parts.append(pd.DataFrame(z, columns=[f"{c}_svd{i}" for i in range(z.shape[1])]))
        return pd.concat([p.reset_index(drop=True) for p in parts], axis=1)


def _aligned(model: Any, X: Any, k: int) -> np.ndarray:
    raw = np.asarray(model.predict_proba(X), dtype=np.float64)
    out = np.zeros((raw.shape[0], k))
    out[:, np.asarray(model.classes_, dtype=np.int64)] = raw
    return out


def _lgbm(**extra: Any) -> LGBMClassifier:
    return LGBMClassifier(verbose=-1, random_state=SEED, n_jobs=1, **extra)


def _temperature(A: pd.DataFrame, y: np.ndarray, k: int) -> Any:
    """Plain temperature scaling, the reference a user would pick (scikit-learn's
    ``CalibratedClassifierCV(method="temperature")``): the log loss of the 0/1 labels, not
    prudent's maps' smoothed targets."""
    rows = np.arange(len(y))
    fit_rows, cal_rows = train_test_split(rows, test_size=0.2, stratify=y, random_state=SEED)
    sub = _lgbm().fit(A.iloc[fit_rows], y[fit_rows])
    cal_proba = clip_normalise(_aligned(sub, A.iloc[cal_rows], k), EPS_IN)
    temperature = _fit_temperature(cal_proba, y[cal_rows], smoothed=False)

    def scaled(B: pd.DataFrame) -> np.ndarray:
        logits = np.log(clip_normalise(_aligned(sub, B, k), EPS_IN)) / temperature
        return np.asarray(softmax(logits, axis=1), dtype=np.float64)

    return scaled


def _logistic(task: Task, train: pd.DataFrame, y: np.ndarray, k: int) -> Any:
    text = task.meta.get("text_columns", [])
    schema = infer_schema(train, task.target, text=text)
    X = validate_frame(train.drop(columns=task.target), schema)[0]
    counts = np.bincount(y, minlength=k)
    balanced = bool(counts.max() >= 3 * max(counts.min(), 1))
    model = logistic_baseline(schema, n_rows=len(y), balanced=balanced, seed=SEED).fit(X, y)
    return lambda frame: _aligned(model, validate_frame(frame, schema)[0], k)


def reference_probas(
    task: Task, train: pd.DataFrame, y: np.ndarray, frames: dict[str, pd.DataFrame]
) -> dict[str, dict[str, np.ndarray]]:
    """Class probabilities (columns in ``task.classes`` order) of every reference model on every
    frame of ``frames`` (the target column removed)."""
    k = len(task.classes)
    feats = LgbmFeatures(task, train)
    A = feats(train)
    models = {
        "lightgbm": _lgbm().fit(A, y),
        "lightgbm_balanced": _lgbm(class_weight="balanced").fit(A, y),
    }
    logistic = _logistic(task, train, y, k)
    temperature = _temperature(A, y, k)
    prior = np.bincount(y, minlength=k) / len(y)
    out: dict[str, dict[str, np.ndarray]] = {}
    for part, frame in frames.items():
        B = feats(frame)
        out[part] = {name: _aligned(m, B, k) for name, m in models.items()}
        out[part]["lightgbm_temperature"] = temperature(B)
        out[part]["logistic"] = logistic(frame)
        out[part]["majority"] = np.tile(prior, (len(frame), 1))
    return out


def _knn_space(task: Task, train: pd.DataFrame) -> ColumnTransformer:
    num, cat, text = _columns(task, train)
    steps: list[tuple[str, Any, Any]] = []
    if num:
        scale = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        steps.append(("num", scale, num))
    if cat:
        hot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=5)
        steps.append(("cat", make_pipeline(SimpleImputer(strategy="constant"), hot), cat))
    for c in text:
        svd = TruncatedSVD(n_components=SVD_COMPONENTS, random_state=SEED)
        tfidf = TfidfVectorizer(min_df=2, max_features=20_000, dtype=np.float32)
        as_text = FunctionTransformer(_as_text)
        steps.append((f"text_{c}", make_pipeline(as_text, tfidf, svd, StandardScaler()), c))
    return ColumnTransformer(steps, sparse_threshold=0.0)


def _as_text(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str)


def _as_str_categories(task: Task, frame: pd.DataFrame) -> pd.DataFrame:
    cat = _columns(task, frame)[1]
    return frame.assign(
        **{c: frame[c].astype("string").fillna("(missing)").astype(str) for c in cat}
    )


def reference_ood(task: Task, train: pd.DataFrame, test: pd.DataFrame, ood: pd.DataFrame) -> Any:
    """k-NN distance scores of ``test`` and ``ood`` rows (higher = more unusual)."""
    X = _as_str_categories(task, train.drop(columns=task.target))
    if len(X) > KNN_REFERENCE_ROWS:
        X = X.sample(n=KNN_REFERENCE_ROWS, random_state=SEED)
    space = _knn_space(task, X).fit(X)
    nn = NearestNeighbors(n_neighbors=KNN_K).fit(space.transform(X))

    def score(frame: pd.DataFrame) -> np.ndarray:
        Z = space.transform(_as_str_categories(task, frame))
        return np.asarray(nn.kneighbors(Z)[0].mean(axis=1))

    return score(test), score(ood)
