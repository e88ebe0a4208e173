"""Bundle integrity: what is saved is verified on load, and anything altered is refused."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from pandas.testing import assert_frame_equal
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier

from prudent._compat import read_skops
from prudent.bundle import FORMAT_VERSION, Bundle, load, running_versions, sha256_file
from prudent.data import validate_frame
from prudent.errors import BundleError, BundleIntegrityError, BundleVersionError
from tests.fixtures import example, fit_bundle, rehash_bundle


class Planted:
    """A type no bundle may hold: loading it would run code from outside prudent's trust."""

    built = 0
    """How many were restored from a file (their ``__setstate__`` ran)."""

    def __init__(self) -> None:
        self.payload = "anything"

    def __setstate__(self, state: dict[str, str]) -> None:
        Planted.built += 1
        self.__dict__.update(state)


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return example("wine")


@pytest.fixture(scope="module")
def saved(wine: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle fitted on wine and saved once; tests work on copies of it."""
    return fit_bundle(wine, "target").save(tmp_path_factory.mktemp("wine") / "model")


@pytest.fixture
def copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "model"))


def _flip_byte(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def test_save_writes_files_hashes_and_manifest(saved: Path, wine: pd.DataFrame) -> None:
    manifest = json.loads((saved / "manifest.json").read_text())
    assert {"model.skops", "label_issues.csv", "artifacts.npz"} <= set(manifest["files"])
    for name, digest in manifest["files"].items():
        assert sha256_file(saved / name) == digest
    assert (saved / "manifest.sha256").read_text().strip() == sha256_file(saved / "manifest.json")
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["versions"] == running_versions()
    assert manifest["classes"] == ["class_0", "class_1", "class_2"]
    assert manifest["target"] == "target"
    assert [c["name"] for c in manifest["schema"]["columns"]] == list(wine.columns[:-1])


def test_load_round_trips_manifest_and_model(saved: Path, wine: pd.DataFrame) -> None:
    bundle = load(saved)
    assert bundle.path == saved
    assert bundle.classes == ["class_0", "class_1", "class_2"]
    assert (
        bundle.version
        == json.loads((saved / "manifest.json").read_text())["files"]["model.skops"][:12]
    )
    assert bundle.extras["label_issues.csv"] == (saved / "label_issues.csv").read_bytes()
    assert bundle.schema.feature_names == list(wine.columns[:-1])


def test_the_saved_report_names_the_bundle_it_is_in(saved: Path) -> None:
    """The report is rendered once the model file is written: its header names the bundle's
    version (the model file's hash), as ``prudent report`` does; every fitted bundle's
    report said "bundle unsaved"."""
    page = (saved / "report.html").read_text(encoding="utf-8")
    assert f"bundle {load(saved).version}" in page
    assert "bundle unsaved" not in page


def test_a_report_that_fails_leaves_no_folder_without_a_manifest(
    wine: pd.DataFrame, tmp_path: Path
) -> None:
    bundle = fit_bundle(wine, "target")

    def broken(_: object) -> str:
        raise RuntimeError("the renderer broke")

    bundle.renderer = broken
    with pytest.raises(RuntimeError, match="the renderer broke"):
        bundle.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()
    bundle.renderer = None
    assert (bundle.save(tmp_path / "model") / "manifest.json").is_file()


def test_the_model_file_deflates_its_object_tree(
    saved: Path, wine: pd.DataFrame, tmp_path: Path
) -> None:
    """skops stored every member as is: its schema.json (the object tree, naming every
    column of every step) was 6.9 of 22.6 MB on 561 columns. Deflated, it is a fraction,
    and the bundle loads and predicts as before."""
    with zipfile.ZipFile(saved / "model.skops") as z:
        schema = z.getinfo("schema.json")
    assert schema.compress_type == zipfile.ZIP_DEFLATED
    assert schema.compress_size < schema.file_size / 5
    plain = io.BytesIO()
    sio.dump(load(saved).model, plain)
    assert (saved / "model.skops").stat().st_size < 0.6 * len(plain.getvalue())
    X = validate_frame(wine.drop(columns="target"), load(saved).schema)[0]
    again = tmp_path / "again"
    load(saved).save(again)  # a bundle saved from a loaded one predicts the same
    assert np.array_equal(load(again).model.scores(X).primary, load(saved).model.scores(X).primary)


def test_save_keeps_the_training_rows_apart_from_the_test_rows(
    saved: Path, wine: pd.DataFrame
) -> None:
    train = pd.read_parquet(saved / "train_rows.parquet")
    test = pd.read_parquet(saved / "test_rows.parquet")
    assert not set(train["__row__"]) & set(test["__row__"])
    assert len(train) + len(test) == len(wine)  # under 2,000 training rows: all of them
    expected = wine.iloc[train["__row__"]]["target"].astype(str).tolist()
    classes = load(saved).classes
    assert [str(classes[int(v)]) for v in train["__label__"]] == expected


def test_the_training_rows_file_keeps_fewer_rows_to_stay_under_its_cap() -> None:
    from prudent.bundle._saving import _capped_parquet

    rng = np.random.default_rng(0)
    words = np.array(["w" + str(i) for i in range(5000)])
    frame = pd.DataFrame({"text": [" ".join(rng.choice(words, 200)) for _ in range(400)]})
    full = _capped_parquet(frame, limit=10**9)
    capped = _capped_parquet(frame, limit=len(full) // 3)
    assert len(capped) <= len(full) // 3
    kept = pd.read_parquet(io.BytesIO(capped))
    assert 0 < len(kept) < 400 and kept["text"].tolist() == frame["text"][: len(kept)].tolist()


@pytest.mark.parametrize("name", ["model.skops", "label_issues.csv", "artifacts.npz"])
def test_load_refuses_a_flipped_byte_in_a_file(copy: Path, name: str) -> None:
    _flip_byte(copy / name)
    with pytest.raises(
        BundleIntegrityError,
        match=rf"Bundle file '{name}' in '.*' does not "
        r"match its SHA-256 in the manifest",
    ):
        load(copy)


def test_load_refuses_a_flipped_byte_in_the_manifest(copy: Path) -> None:
    _flip_byte(copy / "manifest.json", at=0.3)
    with pytest.raises(
        BundleIntegrityError,
        match=r"manifest.json in '.*' does not match its "
        r"hash \(altered or truncated\); refused",
    ):
        load(copy)


def test_load_refuses_a_truncated_model(copy: Path) -> None:
    data = (copy / "model.skops").read_bytes()
    (copy / "model.skops").write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleIntegrityError, match=r"'model.skops' .* \(altered or truncated\)"):
        load(copy)


@pytest.mark.parametrize("name", ["label_issues.csv", "model.skops", "manifest.sha256"])
def test_load_refuses_a_missing_file(copy: Path, name: str) -> None:
    (copy / name).unlink()
    with pytest.raises(BundleIntegrityError, match=rf"is missing '{name}'|has no {name}"):
        load(copy)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", "..\\x"])
def test_load_refuses_a_file_name_outside_the_bundle(copy: Path, name: str) -> None:
    rehash_bundle(copy, lambda m: m["files"].update({name: "0" * 64}))
    with pytest.raises(
        BundleIntegrityError,
        match=rf"Bundle file name '{_re(name)}' is not a "
        "plain relative path inside the bundle",
    ):
        load(copy)


def test_load_refuses_a_link_that_leads_outside(copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not yours")
    (copy / "notes.txt").symlink_to(outside)
    rehash_bundle(copy, lambda m: m["files"].update({"notes.txt": sha256_file(outside)}))
    with pytest.raises(BundleIntegrityError, match=r"'notes.txt' resolves outside the bundle"):
        load(copy)


def test_load_refuses_an_untrusted_type(copy: Path) -> None:
    sio.dump(Planted(), copy / "model.skops")
    rehash_bundle(copy)
    with pytest.raises(
        BundleIntegrityError,
        match=r"'model.skops' holds types prudent does not "
        r"trust: \['tests.bundle.test_bundle.Planted'"
        r"\]; the bundle is refused",
    ):
        load(copy)
    assert Planted.built == 0  # refused before anything in the file was built


def test_read_skops_lists_and_builds_what_skops_public_pair_does(saved: Path) -> None:
    """One read of the model file: the same untrusted types as ``get_untrusted_types``, and an
    object that predicts as the one ``load(trusted=...)`` gives."""
    path = saved / "model.skops"
    listed = sio.get_untrusted_types(file=path)
    untrusted, build = read_skops(path)
    assert untrusted == listed and any(t.startswith("prudent.") for t in untrusted)
    ours, theirs = build(), sio.load(path, trusted=listed)
    rows = example("wine").drop(columns="target").head(40)
    X, _ = validate_frame(rows, Bundle.load(saved).schema)
    assert_frame_equal(ours.predict_frame(X), theirs.predict_frame(X))


def test_load_refuses_a_function_from_a_trusted_library(copy: Path) -> None:
    """A transformer calling numpy.load with the bundle's own arguments is code, not a model."""
    sio.dump(
        FunctionTransformer(func=np.load, kw_args={"allow_pickle": True}), copy / "model.skops"
    )
    rehash_bundle(copy)
    with pytest.raises(
        BundleIntegrityError,
        match=r"'model.skops' holds functions prudent does "
        r"not trust: \['numpy.load'\]",
    ):
        load(copy)


def test_load_refuses_a_trusted_object_that_is_not_a_prudent_model(
    copy: Path, wine: pd.DataFrame
) -> None:
    foreign = DecisionTreeClassifier(random_state=0).fit(wine.iloc[:, :-1], wine["target"])
    sio.dump(foreign, copy / "model.skops")
    rehash_bundle(copy)
    with pytest.raises(BundleIntegrityError, match=r"does not hold a prudent model; refused"):
        load(copy)


def test_load_refuses_a_model_file_that_is_not_skops(copy: Path) -> None:
    (copy / "model.skops").write_bytes(b"PK\x03\x04 not really a zip")
    rehash_bundle(copy)
    with pytest.raises(BundleIntegrityError, match=r"'model.skops' is not a readable skops file"):
        load(copy)


def test_load_refuses_a_manifest_that_is_not_json(copy: Path) -> None:
    (copy / "manifest.json").write_text("{not json")
    (copy / "manifest.sha256").write_text(sha256_file(copy / "manifest.json"))
    with pytest.raises(BundleIntegrityError, match=r"manifest.json in '.*' is not valid JSON"):
        load(copy)


def test_load_refuses_a_manifest_without_file_hashes(copy: Path) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    (copy / "manifest.sha256").write_text(sha256_file(copy / "manifest.json"))
    with pytest.raises(BundleIntegrityError, match=r"has no list of file hashes; refused"):
        load(copy)


def test_load_refuses_a_manifest_whose_classes_are_not_the_model_s(copy: Path) -> None:
    """A manifest edited and hashed anew loaded: ``show`` said 'oui' where every prediction
    said 'yes'."""
    classes = json.loads((copy / "manifest.json").read_text())["classes"]
    renamed = [*classes[:-1], f"{classes[-1]}_renamed"]
    rehash_bundle(copy, lambda m: m.update({"classes": renamed}))
    with pytest.raises(BundleIntegrityError, match=r"lists the classes .*_renamed'\] in its man"):
        load(copy)


def test_load_refuses_other_library_versions(copy: Path) -> None:
    rehash_bundle(copy, lambda m: m["versions"].update({"scikit-learn": "0.24.2"}))
    with pytest.raises(
        BundleVersionError,
        match=r"was saved with scikit-learn 0.24.2 \(running "
        r"1\.\d+.*\); install those versions or refit",
    ) as e:
        load(copy)
    assert e.value.saved["scikit-learn"] == "0.24.2"
    assert e.value.running["scikit-learn"] == running_versions()["scikit-learn"]
    assert e.value.bundle_path == str(copy)


def test_load_accepts_another_patch_release(copy: Path) -> None:
    major, minor, *_ = running_versions()["scikit-learn"].split(".")
    rehash_bundle(copy, lambda m: m["versions"].update({"scikit-learn": f"{major}.{minor}.99"}))
    assert load(copy).classes == ["class_0", "class_1", "class_2"]


def test_load_refuses_another_format_version(copy: Path) -> None:
    rehash_bundle(copy, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(
        BundleVersionError,
        match=rf"format {FORMAT_VERSION + 1} \(running "
        rf"{FORMAT_VERSION}\)",
    ):
        load(copy)


def test_load_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"is not a prudent bundle: it has no manifest.json"):
        load(tmp_path)
    with pytest.raises(BundleError, match=r"Bundle directory '.*nowhere' does not exist"):
        load(tmp_path / "nowhere")


def test_save_refuses_to_overwrite_what_is_not_a_bundle(saved: Path, tmp_path: Path) -> None:
    bundle = load(saved)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("precious")
    with pytest.raises(BundleError, match=r"exists and is not a prudent bundle; refusing"):
        bundle.save(tmp_path / "notes", overwrite=True)
    assert (tmp_path / "notes" / "keep.txt").read_text() == "precious"
    bundle.save(tmp_path / "again")
    with pytest.raises(BundleError, match=r"exists; choose another path"):
        bundle.save(tmp_path / "again")
    assert load(bundle.save(tmp_path / "again", overwrite=True)).classes == bundle.classes


def test_add_file_rehashes_and_stays_inside(copy: Path) -> None:
    bundle = load(copy)
    bundle.add_file("report.html", b"<html>report</html>")
    again = load(copy)
    assert again.extras["report.html"] == b"<html>report</html>"
    with pytest.raises(BundleIntegrityError, match=r"not a plain relative path"):
        bundle.add_file("../report.html", b"x")
    assert not (copy.parent / "report.html").exists()


def test_in_memory_bundle_predicts_like_its_loaded_copy(copy: Path, wine: pd.DataFrame) -> None:
    rows = wine.sample(40, random_state=0)
    loaded = load(copy)
    assert isinstance(loaded, Bundle)
    again = Bundle.load(loaded.save(copy.parent / "resaved"))
    pd.testing.assert_frame_equal(again.predict(rows), loaded.predict(rows))
    assert np.isfinite(again.predict(rows)["confidence"]).all()


def _re(text: str) -> str:
    import re

    return re.escape(text.replace("\\", "\\\\"))


def test_backup_shared_with_the_primary_is_saved_once(saved: Path) -> None:
    """The logistic backup, when it is the primary or one of its members, is written once
    and restored as that same object (skops shares no object between places)."""
    model = load(saved).model
    parts = [model.primary, *getattr(model.primary, "estimators_", [])]
    others = [
        sio.dumps(model.primary),
        *(sio.dumps(p) for p in parts[1:]),
    ]
    for i, part in enumerate(parts):
        model.backup = part
        blob = sio.dumps(model)
        again = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
        again_parts = [again.primary, *getattr(again.primary, "estimators_", [])]
        assert again.backup is again_parts[i]
        model.backup = None
        assert len(blob) < len(sio.dumps(model)) + len(others[i]) // 2
