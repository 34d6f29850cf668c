"""The export stage: binary ops, size bounds, the report, parity on trained and fresh weights, bad inputs."""
import json

import numpy as np
import pytest

from gaitbnn import export, families
from gaitbnn.errors import InputError
from gaitbnn.training import fit

REPORT_FIELDS = {"size_bytes", "one_bit_limit_bytes", "ops", "binary_weight_fraction", "parity", "input"}


@pytest.fixture(scope="module")
def trained_export(trained_run, tmp_path_factory):
    out, _, dataset = trained_run
    model = fit.load_model(out)
    folder = tmp_path_factory.mktemp("export")
    config = json.loads((out / "config.json").read_text())
    report = export.export(model, "bipedalnet", "arm64", folder, dataset.x_test, config)
    return folder, report, model, dataset


def test_bipedalnet_lands_in_binary_ops(trained_export):
    _, report, _, _ = trained_export
    assert report["ops"]["LceBconv2d"] == 4  # conv2, conv3 and both dense layers
    assert "FULLY_CONNECTED" not in report["ops"]
    assert report["binary_weight_fraction"] >= 0.99


def test_bipedalnet_flatbuffer_size(trained_export):
    folder, report, _, _ = trained_export
    size = (folder / "bipedalnet.tflite").stat().st_size
    assert size == report["size_bytes"] <= 48 * 1024
    binary = 296416 - 32 * 38 + 32 * report["parity"]["outputs"]
    assert report["one_bit_limit_bytes"] == binary // 8 + 4 * 576


def test_report_file(trained_export):
    folder, report, _, _ = trained_export
    on_disk = json.loads((folder / "bipedalnet.json").read_text())
    assert REPORT_FIELDS <= set(on_disk) and on_disk == report
    assert set(on_disk["parity"]) >= {"max_abs_diff", "argmax_agreement", "inputs_compared"}


def test_parity_on_trained_weights_over_the_test_split(trained_export):
    _, report, _, dataset = trained_export
    assert report["parity"]["argmax_agreement"] == 1.0
    assert report["parity"]["max_abs_diff"] <= 1e-4
    assert report["parity"]["inputs_compared"] == len(dataset.x_test)


def test_float_target_is_the_larger_baseline(trained_export, tmp_path):
    _, arm64, model, dataset = trained_export
    flt = export.export(model, "bipedalnet", "float", tmp_path, dataset.x_test)
    assert flt["size_bytes"] >= 20 * arm64["size_bytes"]
    assert "LceBconv2d" not in flt["ops"] and flt["binary_weight_fraction"] == 0
    assert flt["parity"]["max_abs_diff"] <= 1e-4


@pytest.mark.parametrize("name", ["idnet-binary", "idnet"])
def test_fresh_weights_float_target(name, tmp_path):
    """The float target's parity at the paper's input (the arm64 target of every model: test_registry.py)."""
    model, x = families.fresh_model(name, seed=1)
    report = export.export(model, name, "float", tmp_path, x)
    assert report["parity"]["argmax_agreement"] == 1.0 and report["parity"]["max_abs_diff"] <= 1e-4
    assert json.loads((tmp_path / f"{name}.json").read_text())["binary_weight_fraction"] == 0


def test_parity_failure_writes_nothing(trained_export, tmp_path, monkeypatch):
    _, _, model, dataset = trained_export
    real = export.run_flatbuffer
    monkeypatch.setattr(export, "run_flatbuffer", lambda fb, x, threads=1: real(fb, x) + 0.01)
    with pytest.raises(export.ParityError, match=r"max \|diff\| 1.00e-02 \(limit 1.0e-04\)"):
        export.export(model, "bipedalnet", "arm64", tmp_path / "out", dataset.x_test[:8])
    assert not (tmp_path / "out").exists()


def test_unknown_target():
    model, _ = families.fresh_model("bipedalnet")
    with pytest.raises(InputError, match="unknown export target 'gpu'"):
        export.convert(model, "gpu")


def test_unconvertible_model_is_one_line(monkeypatch):
    import larq_compute_engine as lce

    def broken(model):
        raise RuntimeError("op not supported\nlong converter log")

    monkeypatch.setattr(lce, "convert_keras_model", broken)
    model, _ = families.fresh_model("bipedalnet")
    with pytest.raises(InputError, match="cannot be converted for target arm64: op not supported$"):
        export.convert(model, "arm64")


def test_fresh_models_are_seeded():
    a, xa = families.fresh_model("bipedalnet", seed=3)
    b, xb = families.fresh_model("bipedalnet", seed=3)
    assert np.array_equal(xa, xb)
    assert all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


def test_weights_float16_holds_exactly_are_stored_as_float16_with_outputs_unchanged():
    import larq_compute_engine as lce

    from gaitbnn import flatbuffer

    model, x = families.fresh_model("bipedalnet", count=16)  # conv1: +-1 weights on the real signal
    plain = export.convert(model, "arm64")
    half = flatbuffer.with_float16_weights(plain)
    assert flatbuffer.op_counts(half)["DEQUANTIZE"] == 1 and "DEQUANTIZE" not in flatbuffer.op_counts(plain)
    assert len(plain) - len(half) >= 288  # 288 weights at 2 bytes instead of 4 (576), less the new op and tensor
    run = {name: lce.testing.Interpreter(fb, num_threads=1) for name, fb in (("plain", plain), ("half", half))}
    for i in range(len(x)):
        assert np.array_equal(run["plain"].predict(x[i:i + 1]), run["half"].predict(x[i:i + 1]))


def test_weights_float16_cannot_hold_stay_float32():
    from gaitbnn import flatbuffer

    model, _ = families.fresh_model("idnet", count=1)  # float IDNet: random real weights
    plain = export.convert(model, "arm64")
    assert flatbuffer.with_float16_weights(plain) == plain


def test_exported_tensors_are_named_by_layer(trained_export):
    from gaitbnn import flatbuffer

    folder, _, model, _ = trained_export
    graph = flatbuffer.graph_of((folder / "bipedalnet.tflite").read_bytes())
    names = [bytes(t.name).decode() for t in graph.subgraphs[0].tensors]
    assert not [n for n in names if ";" in n or n.startswith(model.name + "/") or "_raw_input/" in n]
    assert any(n.startswith("conv2/") for n in names) and any(n.startswith("dense1/") for n in names)
