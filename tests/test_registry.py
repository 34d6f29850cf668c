"""Every registered model, as larq-zoo tests its zoo: builds at a small shape, exports to arm64 with its binary ops
and parity (on x86, and on LCE's aarch64 kernels once `make aarch64` has built them); and `gaitbnn models --json`
matches the checked-in snapshot that the model table in docs/models.md shows."""
import json
from pathlib import Path

import pytest
import tensorflow as tf

from gaitbnn import aarch64, export, families, models

SNAPSHOT = Path(__file__).parent / "snapshots" / "models.json"
MOSTLY_BINARY = ("bipedalnet", "bipedalnet-scaled-logits", "bipedalnet-strided", "idnet-offtheshelf", "idnet-binary",
                 "btcnn-binary", "lenet4-binary")


@pytest.mark.parametrize("name", models.names())
def test_model_builds_and_exports_with_its_binary_ops_and_parity(name, tmp_path):
    spec = models.get_spec(name)
    tf.keras.backend.clear_session()
    model, x = families.fresh_model(name, seed=1, count=16, input_shape=spec.test_shape)
    assert model.output_shape == (None, spec.classes)
    assert x.shape[1:] == model.input_shape[1:]
    report = export.export(model, name, "arm64", tmp_path, x)
    assert report["ops"].get(export.BINARY_OP, 0) == spec.binary_ops
    parity = report["parity"]
    assert parity["argmax_agreement"] == 1.0 or spec.head == "embedding"
    assert parity["max_abs_diff"] <= export.MAX_ABS_DIFF * max(1.0, parity["max_abs_output"])
    assert (tmp_path / f"{name}.tflite").stat().st_size == report["size_bytes"]
    if name in MOSTLY_BINARY:  # nearly every weight in a binary op
        assert report["binary_weight_fraction"] >= 0.99
    assert set(families.of(name).targets) >= {"arm64", "float"}
    # with the aarch64 runtime built (CI builds it), the export also ran there, within the same parity limit
    assert report["aarch64"]["status"] == ("ran" if aarch64.available() else "not run")


def test_models_json_lists_the_snapshot_models_in_order():
    """Refresh with: .venv/bin/gaitbnn models --json > tests/snapshots/models.json (and the table in docs/models.md)."""
    assert [row["name"] for row in json.loads(SNAPSHOT.read_text())] == models.names()


@pytest.mark.parametrize("name", models.names())
def test_model_row_matches_the_snapshot(name):
    """Each row of ``gaitbnn models --json`` (exact parameter counts, MACs, the paper's reference configuration)."""
    expected = next(row for row in json.loads(SNAPSHOT.read_text()) if row["name"] == name)
    assert json.loads(json.dumps(models.describe(name))) == expected


def test_docs_model_table_shows_the_snapshot_counts():
    readme = (Path(__file__).parents[1] / "docs" / "models.md").read_text()
    for row in json.loads(SNAPSHOT.read_text()):
        assert f"| {row['name']} |" in readme, row["name"]
        line = next(line for line in readme.splitlines() if line.startswith(f"| {row['name']} |"))
        assert f"{row['params']:,}" in line, (row["name"], line)
