"""tCNN / BtCNN training: learning on synthetic data, the thesis' metrics in the run, the CLI on a .npz."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from gaitbnn.cli import main
from gaitbnn.data import activity
from gaitbnn.training import fit
from gaitbnn.training.scoring import CONFUSION_FILE

CHANCE = 1 / 8


@pytest.fixture(scope="module")
def tiny_activity():
    """Synthetic LARa-shaped data (30 channels), cut into short windows to keep the suite fast."""
    return activity.load("synthetic:seconds=10", seed=0, window=50, stride=25)


@pytest.mark.parametrize("name", ["tcnn", "btcnn-conv1", "btcnn-binary"])
def test_learns_synthetic_activities(tiny_activity, tmp_path, name):
    metrics = fit.train(name, tiny_activity, tmp_path / name, epochs=5, batch_size=16, learning_rate=1e-3,
                        seed=0, verbose=0)
    assert metrics["test_accuracy"] > 0.6 > 4 * CHANCE  # chance is 1/8
    assert 0 < metrics["mean_f1"] <= 1 and metrics["weighted_f1"] > 0.5
    assert (tmp_path / name / CONFUSION_FILE).stat().st_size > 1000
    header = (tmp_path / name / "history.csv").read_text().splitlines()[0]
    assert "val_weighted_f1" in header and "val_mean_f1" in header
    config = json.loads((tmp_path / name / "config.json").read_text())
    assert config["optimizer"] == "rmsprop" and config["monitor"] == "val_weighted_f1"
    assert config["data_options"] == {"window": 50, "stride": 25, "sensors": "mbientlab", "protocol": "authors"}


def test_attribute_head_learns_and_decodes_to_classes(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 320)
    x = rng.normal(size=(320, 20, 4)).astype(np.float32)
    x[np.arange(320), :, y] += 2.5
    attributes = np.stack([y == 0, y == 1, (y == 2) | (y == 3), y == 3], axis=1).astype(np.float32)
    np.savez(tmp_path / "attrs.npz", x=x, y=y, attributes=attributes)
    data = activity.load(str(tmp_path / "attrs.npz"))
    metrics = fit.train("btcnn-conv1-attr", data, tmp_path / "run", epochs=8, batch_size=16, learning_rate=1e-3,
                        verbose=0)
    assert metrics["head"] == "attributes" and metrics["test_accuracy"] > 0.8  # chance is 1/4
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert len(config["attribute_table"]) == 4 and sorted(config["attribute_table_classes"]) == [0, 1, 2, 3]


def test_cli_trains_a_btcnn_on_a_npz_and_evaluates_it(tmp_path):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 240)
    x = rng.normal(size=(240, 20, 4)).astype(np.float32)
    x[np.arange(240), :, y] += 3.0
    np.savez(tmp_path / "my.npz", x=x, y=y, subject=np.repeat(np.arange(6), 40))
    runner = CliRunner()
    result = runner.invoke(main, ["train", "btcnn-conv1", "--data", str(tmp_path / "my.npz"), "--out",
                                  str(tmp_path / "run"), "--epochs", "4", "--batch-size", "16",
                                  "--learning-rate", "1e-3"])
    assert result.exit_code == 0, result.output
    assert "weighted F1" in result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.8 and {"mean_f1", "weighted_f1"} <= set(metrics)
    again = runner.invoke(main, ["evaluate", str(tmp_path / "run")])
    assert again.exit_code == 0 and f"{100 * metrics['test_accuracy']:.2f}%" in again.output


@pytest.mark.parametrize("argv, fragment", [
    (["train", "btcnn-conv1", "--data", "{tmp}/bad.npz", "--out", "{tmp}/out"], "missing array 'y'"),
    (["train", "bipedalnet", "--window", "50", "--out", "{tmp}/out"], "--window: not an option of the gait data"),
    (["train", "tcnn", "--data", "{tmp}/absent", "--out", "{tmp}/out"], "no such dataset folder"),
    (["reproduce", "btcnn", "--learning-rates", "fast", "--out", "{tmp}/out"], "not a comma-separated list"),
])
def test_cli_bad_activity_inputs_are_one_line(tmp_path, argv, fragment):
    np.savez(tmp_path / "bad.npz", x=np.zeros((4, 5, 2), np.float32))
    result = CliRunner().invoke(main, [a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert fragment in result.output and "Traceback" not in result.output
    assert len([line for line in lines if line.startswith("Error")]) == 1
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_thesis_test_tables_sit_beside_our_test_metrics():
    """Tables 5.3.8 / 5.3.9 (the thesis' test wF1) are what our test-subject wF1 is printed beside."""
    from gaitbnn.experiments import btcnn, load_config

    config = load_config("btcnn_tables")
    assert {r["table"] for r in config["test_rows"]} == {"Table 5.3.8", "Table 5.3.9"}
    assert len(config["test_rows"]) == 16  # 2 sensor sets x 2 heads x Conv[1]..Conv[1-4]
    measured = [{"sensors": "mbientlab", "model": "btcnn-conv1", "learning_rate": 1e-4, "thesis_learning_rate": 1e-4,
                 "weighted_f1": 0.5, "test_accuracy": 0.6, "val_accuracy": 0.7, "mean_f1": 0.4, "head": "softmax"}]
    test = btcnn.test_side_by_side(measured)
    row = test[(test["config"] == "Conv[1]") & (test["head"] == "softmax") & (test["sensors"] == "mbientlab")].iloc[0]
    assert row["test wF1 (thesis / measured)"] == "0.755 / 0.500" and row["thesis table"] == "Table 5.3.8"
    training = btcnn.side_by_side(measured)
    conv1 = training[(training["config"] == "Conv[1]") & (training["head"] == "softmax")
                     & (training["lr"] == "0.0001") & (training["sensors"] == "mbientlab")].iloc[0]
    assert conv1["Acc (thesis training / measured validation)"] == "0.714 / 0.700"  # Table 5.3.5 is a training table


def test_btcnn_can_start_from_the_trained_tcnn(tmp_path):
    """Thesis Sec. 5.3.2: the trained tCNN "is going to be trained again, then the weight will be binarized"."""
    from gaitbnn import models
    from gaitbnn.training import fit

    tcnn, btcnn = models.build("tcnn", (24, 6)), models.build("btcnn-conv1-2", (24, 6))
    assert fit.transfer_weights(btcnn, tcnn) == ["conv1", "conv2", "conv3", "conv4", "fc1", "fc2", "fc3"]
    float_conv1 = tcnn.get_layer("conv1").get_weights()[0]  # (5, 1, 1, 64) on the [0, 1] input
    spread = btcnn.get_layer("conv1").get_weights()[0]  # (5, 1, 32, 64) on its thermometer code
    np.testing.assert_allclose(spread.sum(axis=2, keepdims=True), float_conv1, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(btcnn.get_layer("conv2").get_weights()[0], tcnn.get_layer("conv2").get_weights()[0])
    np.testing.assert_array_equal(btcnn.get_layer("fc1").get_weights()[1], tcnn.get_layer("fc1").get_weights()[1])
    out = tmp_path / "repro"
    result = CliRunner().invoke(main, ["reproduce", "btcnn", "--data", "synthetic:seconds=3", "--epochs", "1",
                                       "--batch-size", "32", "--window", "24", "--models", "tcnn,btcnn-conv1",
                                       "--learning-rates", "1e-3", "--init", "tcnn", "--out", str(out)])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "mbientlab" / "btcnn-conv1-lr0.001" / "config.json").read_text())
    assert config["initialized_from"] == str(out / "mbientlab" / "tcnn-lr0.001")
    assert "initialized from the trained float tCNN" in result.output
    refused = CliRunner().invoke(main, ["reproduce", "btcnn", "--data", "synthetic:seconds=3", "--epochs", "1",
                                        "--window", "24", "--models", "btcnn-conv1", "--init", "tcnn", "--out",
                                        str(tmp_path / "other")])
    assert refused.exit_code == 1 and "include tcnn in --models" in refused.output
