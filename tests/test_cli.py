"""The click CLI through click's test runner: every command, and one line per bad input."""
import json

from click.testing import CliRunner

from conftest import TINY
from gaitbnn import runs
from gaitbnn.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def assert_one_line_error(result, fragment, code=1):
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and fragment in errors[0], result.output
    if code == 1:
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_models_table_and_json():
    table = invoke("models", "bipedalnet", "idnet")
    assert table.exit_code == 0 and "bipedalnet" in table.output and "296,416" in table.output
    names = ("bipedalnet", "idnet", "idnet-binary", "lenet4-binary")
    rows = {r["name"]: r for r in json.loads(invoke("models", "--json", *names).output)}
    assert list(rows) == list(names)  # every model: test_registry.py's snapshot rows
    assert rows["bipedalnet"]["binary_params"] == 296416
    assert rows["bipedalnet"]["float_params"] == 576
    assert rows["bipedalnet"]["memory_bytes"] == 296416 // 8 + 576 * 4
    assert rows["idnet"]["memory_bytes"] == 4 * rows["idnet"]["params"]
    for row in rows.values():
        assert row["params"] == row["binary_params"] + row["float_params"]
        assert row["flops"] > 0


def test_summary():
    result = invoke("summary", "bipedalnet")
    assert result.exit_code == 0 and "dense1" in result.output and "276480" in result.output


def test_train_then_evaluate(tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "bipedalnet", "--data", TINY, "--epochs", 2, "--batch-size", 32, "--out", out)
    assert result.exit_code == 0, result.output
    assert "Epoch 2/2" in result.output  # progress per epoch
    metrics = json.loads((out / runs.METRICS_FILE).read_text())
    shown = invoke("evaluate", out)
    assert shown.exit_code == 0
    assert f"test accuracy {100 * metrics['test_accuracy']:.2f}%" in shown.output
    assert "SYNTHETIC" in shown.output
    again = invoke("train", "bipedalnet", "--data", TINY, "--epochs", 1, "--out", out)
    assert_one_line_error(again, "complete run already")


def test_export_fresh_model(tmp_path):
    result = invoke("export", "bipedalnet", "--target", "arm64", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "bipedalnet.json").read_text())
    assert report["ops"]["LceBconv2d"] == 4 and report["parity"]["argmax_agreement"] == 1.0


def test_export_and_benchmark_a_run(trained_run, tmp_path):
    run_dir, _, dataset = trained_run
    result = invoke("export", run_dir, "--target", "arm64", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "bipedalnet.json").read_text())
    assert report["parity"]["inputs_compared"] == len(dataset.x_test)
    timed = invoke("benchmark", tmp_path / "bipedalnet.tflite", "--runs", 5)
    assert timed.exit_code == 0 and "median" in timed.output and "p90" in timed.output


def test_benchmark_compare_prints_the_ratio():
    result = invoke("benchmark", "--compare", "bipedalnet", "--runs", 5)
    assert result.exit_code == 0, result.output
    assert "latency ratio arm64 / float" in result.output and " float:" in result.output


def test_bench_writes_the_table(tmp_path):
    result = invoke("bench", "--out", tmp_path, "--runs", 3, "--models", "bipedalnet,idnet,idnet-binary")
    assert result.exit_code == 0, result.output
    rows = (tmp_path / "bench.csv").read_text().splitlines()
    assert rows[0].startswith("model,size arm64 (KiB),size float (KiB),size ratio (float / arm64),latency arm64 (us)")
    assert len(rows) == 1 + 3
    assert "x86_64" in (tmp_path / "bench.md").read_text() or "aarch64" in (tmp_path / "bench.md").read_text()


def test_export_refuses_an_incomplete_or_corrupt_run(trained_run, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(trained_run[0], run_dir)
    (run_dir / "model.h5").write_bytes(b"not hdf5")
    assert_one_line_error(invoke("export", run_dir, "--out", tmp_path / "e"), "cannot load the model")
    (run_dir / "metrics.json").unlink()
    assert_one_line_error(invoke("export", run_dir, "--out", tmp_path / "e"), "incomplete run")
    assert not (tmp_path / "e").exists()


def test_padova_tree_through_the_cli(padova_tree, tmp_path):
    from test_data import tree_digest

    before = tree_digest(padova_tree)
    out = tmp_path / "run"
    result = invoke("train", "idnet", "--data", padova_tree, "--epochs", 1, "--out", out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "metrics.json").read_text())["synthetic"] is False
    assert str(padova_tree) in invoke("evaluate", out).output
    assert tree_digest(padova_tree) == before  # training and evaluation never write into the dataset
