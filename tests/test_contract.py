"""The phone's input contract: raw windows in, normalization in the model, the contract in the report and the
flatbuffer; and `gaitbnn predict` through a run and through its flatbuffer."""
import json

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from conftest import TINY
from gaitbnn import contract, export, families, models
from gaitbnn.cli import main
from gaitbnn.training import fit

CONTRACT_FIELDS = {"shape", "channels", "units", "sample_rate_hz", "window_seconds", "layout", "normalization",
                   "labels", "output"}


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    out, _, dataset = trained_run
    folder = tmp_path_factory.mktemp("phone")
    result = CliRunner().invoke(main, ["export", str(out), "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return out, folder, dataset


def test_gait_report_carries_the_contract(exported):
    out, folder, dataset = exported
    report = json.loads((folder / "bipedalnet.json").read_text())
    given = report["input"]
    assert CONTRACT_FIELDS <= set(given)
    assert given["shape"] == [1, 6, 98, 1]
    assert given["channels"] == ["accelerometer_x", "accelerometer_y", "accelerometer_z", "gyroscope_x",
                                 "gyroscope_y", "gyroscope_z"]
    assert given["sample_rate_hz"] == 49.0 and given["window_seconds"] == 2.0
    assert given["normalization"] == "in model"
    assert given["labels"] == dataset.class_names
    assert given["normalization_folded"]["mean"] == dataset.normalization["mean"]
    # the same contract travels inside the flatbuffer
    assert contract.read((folder / "bipedalnet.tflite").read_bytes()) == given


def test_flatbuffer_takes_raw_windows(exported):
    """The flatbuffer on raw windows predicts what the trained Keras model predicts on standardized ones."""
    out, folder, dataset = exported
    raw = contract.to_raw(dataset.x_test, json.loads((out / "config.json").read_text()))
    assert np.abs(raw - dataset.x_test).max() > 0.5  # raw really is another scale
    lite = export.run_flatbuffer((folder / "bipedalnet.tflite").read_bytes(), raw)
    keras = fit.load_model(out).predict(dataset.x_test, verbose=0)
    assert np.array_equal(lite.argmax(axis=1), keras.argmax(axis=1))
    np.testing.assert_allclose(lite, keras, atol=1e-4)
    report = json.loads((folder / "bipedalnet.json").read_text())
    assert report["parity"]["argmax_agreement"] == 1.0 and report["parity"]["inputs_compared"] == len(raw)


def test_normalize_is_exactly_the_stored_standardization_without_a_sub_op():
    """``(x + (-mean)) / std`` in the graph: the same floats as ``(x - mean) * (1 / std)``, bit for bit, and no
    ``SUB`` in the flatbuffer (TFLite's broadcasting SUB has no NEON path; ADD has)."""
    import larq_compute_engine as lce

    from gaitbnn import flatbuffer as tflite_file

    config = {"normalization": {"mean": [0.5, -1, 9.81, 0, 0.1, -0.2], "std": [2, 4, 0.3, 1, 0.25, 8]}}
    raw = np.random.default_rng(0).normal(5, 7, size=(8, 6, 98, 1)).astype(np.float32)
    layer = contract.normalizer(config)
    mean, std = (np.reshape(np.float32(config["normalization"][k]), (1, 6, 1, 1)) for k in ("mean", "std"))
    assert np.array_equal(layer(raw).numpy(), (raw - mean) * (np.float32(1) / std))
    inputs = tf.keras.Input((6, 98, 1), batch_size=1)
    ops = tflite_file.op_counts(bytes(lce.convert_keras_model(tf.keras.Model(inputs, layer(inputs)))))
    assert ops == {"ADD": 1, "MUL": 1}


@pytest.mark.parametrize("family_source, name, shape", [
    ("activity", "btcnn-binary", (24, 6)),
    ("auth", "lenet4", None),
])
def test_every_family_has_a_contract_with_its_normalization_folded(family_source, name, shape, tmp_path):
    from gaitbnn import data as datasets

    sources = {"activity": "synthetic:seconds=3", "auth": "synthetic:users=3,seconds=30", "gei": "synthetic:subjects=2"}
    dataset = datasets.load_family(family_source, sources[family_source], 0, shape,
                                   {"window": shape[0]} if family_source == "activity" else {}, warn=False)
    config = {"model": name, "normalization": dataset.normalization, "synthetic": True,
              "class_names": getattr(dataset, "class_names", None), "channel_names": getattr(dataset, "channel_names",
                                                                                          None)}
    model, _ = families.fresh_model(name, seed=1, count=8, input_shape=dataset.input_shape)
    report = export.export(model, name, "arm64", tmp_path, dataset.x_test[:16], config)
    given = report["input"]
    assert CONTRACT_FIELDS <= set(given)
    assert given["shape"] == [1, *dataset.input_shape]
    assert report["parity"]["max_abs_diff"] <= export.MAX_ABS_DIFF * max(1.0, report["parity"]["max_abs_output"])
    assert given["normalization"] == "in model"
    if family_source == "auth":
        assert given["labels"]["embedding_size"] == models.get_spec(name).classes
        assert given["labels"]["distance_threshold"] == 0.75
    if family_source == "activity":
        assert given["channels"] == dataset.channel_names and given["labels"] == dataset.class_names


def test_gei_contract_has_no_normalization_to_fold():
    """GEIs are grey levels in [0, 1] as the loader makes them: nothing to fold, and the contract says so."""
    model = models.build("lresnet50", (32, 32, 1), 4)
    config = {"model": "lresnet50", "normalization": {"range": "GEI grey levels in [0, 1]"},
              "class_names": ["001", "002", "003", "004"]}
    assert contract.raw_input_model(model, config) is model
    given = contract.describe("lresnet50", model, config)
    assert CONTRACT_FIELDS <= set(given)
    assert given["normalization"].startswith("none") and given["labels"] == config["class_names"]
    assert given["shape"] == [1, 32, 32, 1]


def test_predict_through_the_run_and_its_flatbuffer_is_identical(exported):
    out, folder, _ = exported
    runner = CliRunner()
    by_run = runner.invoke(main, ["predict", str(out), "--data", TINY, "--json"])
    by_flatbuffer = runner.invoke(main, ["predict", str(folder / "bipedalnet.tflite"), "--data", TINY, "--json"])
    assert by_run.exit_code == 0, by_run.output
    assert by_flatbuffer.exit_code == 0, by_flatbuffer.output
    a, b = json.loads(by_run.output), json.loads(by_flatbuffer.output)
    assert a["ran"].startswith("keras") and b["ran"].startswith("flatbuffer")
    assert a["recordings"] == b["recordings"]
    assert a["windows"] == b["windows"] == sum(r["windows"] for r in a["recordings"]) > 0
    assert {"path", "predicted", "true", "share"} <= set(a["recordings"][0])
    assert a["window_accuracy"] == b["window_accuracy"] > 0.7  # the synthetic users it was trained on
    assert a["recording_accuracy"] == b["recording_accuracy"]
    text = runner.invoke(main, ["predict", str(folder / "bipedalnet.tflite"), "--data", TINY])
    assert "window accuracy" in text.output and "recording accuracy" in text.output


def test_predict_without_labels_of_known_people(exported, padova_tree):
    """Other people (a Padova folder of people the model never saw): predictions, but no truth, no accuracy."""
    out, _, _ = exported
    result = CliRunner().invoke(main, ["predict", str(out), "--data", str(padova_tree), "--json"])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.output)
    assert parsed["window_accuracy"] is None and parsed["recording_accuracy"] is None
    assert all(r["true"] is None for r in parsed["recordings"])


def test_predict_bad_inputs_are_one_line(exported, tmp_path):
    out, folder, _ = exported
    lonely = tmp_path / "lonely.tflite"
    lonely.write_bytes((folder / "bipedalnet.tflite").read_bytes())
    runner = CliRunner()
    for argv, message in [
        ([str(lonely), "--data", TINY], "its report lonely.json is missing beside it"),
        ([str(tmp_path / "nothing"), "--data", TINY], "not a run directory or a .tflite file"),
        ([str(out), "--data", str(tmp_path / "missing")], "missing"),
    ]:
        result = runner.invoke(main, ["predict", *argv])
        assert result.exit_code != 0
        assert message in result.output and "Traceback" not in result.output, result.output
