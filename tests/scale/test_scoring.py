"""Batch scoring on a real Dask cluster: the same rows, order and values as local predict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from prudent.bundle import load
from prudent.errors import ConfigError, DataReadError, SchemaError
from prudent.scale import output_meta, output_schema, predict_parquet
from prudent.scale._scoring import _input_frame
from tests.cli.test_fit_command import assert_one_line_error
from tests.fixtures import run_cli
from tests.scale.conftest import PARTS, Inputs

pytestmark = pytest.mark.slow


def _local(inputs: Inputs, tmp_path: Path) -> pd.DataFrame:
    load(inputs.bundle).predict_file(inputs.whole, tmp_path / "local.parquet")
    return pd.read_parquet(tmp_path / "local.parquet")


def test_cli_on_a_real_cluster_writes_what_local_predict_writes(
    scheduler: str, inputs: Inputs, tmp_path: Path
) -> None:
    out = tmp_path / "scored"
    done = run_cli("predict", inputs.bundle, inputs.pattern, "--out", out, "--dask", scheduler)
    assert done.returncode == 0, done.stderr
    assert f"Predicted {sum(PARTS)} row(s) → {out}" in done.stderr
    parts = sorted(p.name for p in out.iterdir())
    assert parts == [f"part-{i:05d}.parquet" for i in range(len(PARTS))]
    sizes = [len(pd.read_parquet(out / p)) for p in parts]
    assert tuple(sizes) == PARTS  # one part per input partition, in order
    pd.testing.assert_frame_equal(pd.read_parquet(out), _local(inputs, tmp_path))


def test_a_bad_value_on_a_worker_is_one_line_naming_the_column(
    scheduler: str, inputs: Inputs, tmp_path: Path
) -> None:
    rows = inputs.rows.assign(mean_radius=inputs.rows["mean_radius"].astype(str))
    rows.loc[rows.index[150], "mean_radius"] = "twelve"  # numbers as text are read, not this
    rows.iloc[:100].to_parquet(tmp_path / "a.parquet", index=False)
    rows.iloc[100:].to_parquet(tmp_path / "b.parquet", index=False)
    out = tmp_path / "o"
    done = run_cli(
        "predict", inputs.bundle, tmp_path / "*.parquet", "--out", out, "--dask", scheduler
    )
    assert_one_line_error(done, "Partition 1", "'mean_radius'", "'twelve'")
    assert not out.exists() and not (tmp_path / ".o.partial").exists()  # nothing half-written


def test_columns_are_checked_on_the_client_and_the_bundle_leaves_the_workers(
    scheduler: str, inputs: Inputs, tmp_path: Path
) -> None:
    from distributed import Client

    bundle = load(inputs.bundle)
    source = str(tmp_path / "x.parquet")
    pd.read_parquet(inputs.whole).assign(colour="red").to_parquet(source)
    notices: list[str] = []
    with Client(scheduler) as client:
        with pytest.raises(SchemaError, match="'colour'"):
            predict_parquet(bundle, source, tmp_path / "o", client, strict=True)
        n = predict_parquet(bundle, source, tmp_path / "o", client, on_notice=notices.append)
        assert n == sum(PARTS)
        assert notices == ["Column 'colour' is not in the model's schema: ignored."]
        with pytest.raises(ConfigError, match="exists and is not an empty folder"):
            predict_parquet(bundle, source, tmp_path / "o", client)
        left = client.run(lambda dask_worker: [p for p in dask_worker.plugins if "prudent" in p])
        assert list(left.values()) == [[], []]  # the bundle's plugin is removed after each run


def test_inputs_that_are_not_parquet_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataReadError, match="No file or folder matches"):
        _input_frame(str(tmp_path / "none-*.parquet"))
    (tmp_path / "a.csv").write_text("x\n1\n")
    with pytest.raises(DataReadError, match="--dask reads Parquet only"):
        _input_frame(str(tmp_path / "*.csv"))


def test_meta_and_schema_are_the_file_forms(inputs: Inputs, tmp_path: Path) -> None:
    bundle = load(inputs.bundle)
    local = _local(inputs, tmp_path)
    meta = output_meta(bundle.classes)
    assert list(meta.columns) == list(local.columns)
    floats = [c for c in local.columns if local[c].dtype == "float64"]
    assert [c for c in meta.columns if meta[c].dtype == "float64"] == floats
    import pyarrow.parquet as pq

    assert (
        output_schema(bundle.classes)
        == pq.read_schema(tmp_path / "local.parquet").remove_metadata()
    )
