"""An interrupted reproduction resumes (issue 25): rerun after kill -9, the complete runs are reused, the
interrupted one resumes from its last epoch (its history kept), the tables are written only at the end."""
import csv
import subprocess

import pytest

from conftest import gaitbnn_command, kill_9_during

GAIT = "synthetic:users=5,seconds=150,noise=0.5"  # epochs of about a second: long enough to be killed in one


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("experiment, options, first, second, epochs", [
    ("bipedalnet", ("--data", GAIT, "--models", "idnet,bipedalnet", "--recipe", "paper"), "idnet", "bipedalnet", 8),
    ("btcnn", ("--data", "synthetic:seconds=20", "--window", "24", "--batch-size", "16", "--learning-rates", "1e-3",
               "--models", "tcnn,btcnn-conv1"), "mbientlab/tcnn-lr0.001", "mbientlab/btcnn-conv1-lr0.001", 8),
])
def test_a_killed_reproduction_resumes_where_it_stopped(tmp_path, experiment, options, first, second, epochs):
    out = tmp_path / "out"
    argv = gaitbnn_command("reproduce", experiment, *options, "--epochs", epochs, "--out", out)
    kill_9_during(argv, out / second / "history.csv", 2, pause=0.2)
    assert (out / first / "metrics.json").exists()  # the first model was complete before the kill
    assert not (out / second / "metrics.json").exists() and not (out / "results.json").exists()
    before = (out / second / "history.csv").read_bytes().splitlines(keepends=True)
    first_metrics = (out / first / "metrics.json").read_bytes()

    again = subprocess.run(argv, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "reusing the complete run" in again.stdout and f"resuming {second.split('/')[-1].rsplit('-lr', 1)[0]}" \
        in again.stdout, again.stdout[-3000:]
    assert (out / first / "metrics.json").read_bytes() == first_metrics  # reused, not retrained
    after = (out / second / "history.csv").read_bytes().splitlines(keepends=True)
    assert [int(r["epoch"]) for r in rows(out / second / "history.csv")] == list(range(epochs))
    kept = before[:-1]  # the last row may be the epoch the kill cut short
    assert len(kept) >= 2 and after[: len(kept)] == kept  # rows written before the kill, byte for byte
    assert (out / "results.json").exists()

    if experiment == "bipedalnet":  # --force alone starts over: both models trained again from epoch 0
        forced = subprocess.run([*argv, "--force"], capture_output=True, text=True)
        assert forced.returncode == 0, forced.stderr[-2000:]
        assert "reusing" not in forced.stdout and "resuming" not in forced.stdout
        assert (out / first / "metrics.json").read_bytes() != first_metrics
