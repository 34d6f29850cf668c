"""The flatbuffer: binary ops, size bound, Keras parity on trained weights."""
import numpy as np
import pytest

from gaitbnn import export, models
from gaitbnn.training import fit


@pytest.fixture(scope="module")
def trained_export(trained_run, tmp_path_factory):
    out, _, dataset = trained_run
    model = fit.load_model(out)
    folder = tmp_path_factory.mktemp("export")
    report = export.export(model, "bipedalnet", "arm64", folder, dataset.x_test)
    return folder, report


def test_bipedalnet_lands_in_binary_ops(trained_export):
    _, report = trained_export
    assert report["ops"]["LceBconv2d"] == 4  # conv2, conv3 and both dense layers
    assert "FULLY_CONNECTED" not in report["ops"]


def test_bipedalnet_flatbuffer_size(trained_export):
    folder, report = trained_export
    size = (folder / "bipedalnet.tflite").stat().st_size
    assert size == report["size_bytes"] <= 48 * 1024
    binary = 296416 - 32 * 38 + 32 * report["parity"]["outputs"]
    assert report["one_bit_limit_bytes"] == binary // 8 + 4 * 576


def test_parity_on_trained_weights(trained_export):
    _, report = trained_export
    assert report["parity"]["argmax_agreement"] == 1.0
    assert report["parity"]["max_abs_diff"] <= 1e-4
    assert report["parity"]["inputs_compared"] > 10


def test_float_target_is_much_larger(tmp_path):
    model = models.build("bipedalnet")
    x = np.random.default_rng(0).normal(size=(4, 6, 98, 1)).astype("float32")
    small = export.export(model, "bipedalnet", "arm64", tmp_path / "a", x)
    large = export.export(model, "bipedalnet", "float", tmp_path / "f", x)
    assert large["size_bytes"] >= 20 * small["size_bytes"]
    assert "LceBconv2d" not in large["ops"]
