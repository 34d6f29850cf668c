"""An interrupted reproduction resumes (issue 25): rerun after kill -9, the complete runs are reused, the
interrupted one resumes from its last epoch (its history kept), the tables are written only at the end."""
import csv
import json
import subprocess

import pytest

from conftest import gaitbnn_command, kill_9_during, kill_9_when
from gaitbnn.experiments import REGISTRY

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


def step_files(out):
    return {p.relative_to(out): p.read_bytes() for p in (out / "steps").rglob("*") if p.suffix in (".json", ".npz")}


def test_a_killed_siamese_reproduction_resumes_from_its_completed_steps(tmp_path):
    """The per-owner models of the siamese tables are steps: those done before the kill are read, not retrained,
    and the resumed tables equal an uninterrupted run's (each step has its own seeded draws)."""
    out = tmp_path / "out"
    argv = gaitbnn_command("reproduce", "siamese", *REGISTRY["siamese"].tiny, "--out", out)
    kill_9_when(argv, lambda: len(list((out / "steps").rglob("*.json"))) > 6, pause=0.0)
    assert not (out / "results.json").exists()
    before = step_files(out)

    again = subprocess.run(argv, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    done = len([p for p in before if p.suffix == ".json"]) - 1  # setting.json is not a step
    assert f"resuming: {done} of about" in again.stdout and "[table 1] lenet4 softmax_sw" not in again.stdout, \
        again.stdout[-3000:]
    after = step_files(out)
    assert all(after[p] == content for p, content in before.items())  # read, not rewritten
    resumed = json.loads((out / "results.json").read_text())

    fresh = subprocess.run([*argv[:-1], tmp_path / "fresh"], capture_output=True, text=True)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    uninterrupted = json.loads((tmp_path / "fresh" / "results.json").read_text())
    for table in ("table1", "table3_success_percent", "sprt", "continuous_update"):
        assert resumed[table] == uninterrupted[table], table
    assert {k: v["accuracy"] for k, v in resumed["table2"].items()} == \
        {k: v["accuracy"] for k, v in uninterrupted["table2"].items()}
