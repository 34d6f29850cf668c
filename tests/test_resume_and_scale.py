"""Runs that survive and scale: resume after kill -9, rerun from config.json, mirrored training on 2 devices,
multi-worker training in two local processes."""
import csv
import json
import os
import socket
import subprocess
import sys

from conftest import TINY, gaitbnn_command, kill_9_during
from gaitbnn import run_backup, runs

SLOW = "synthetic:users=5,seconds=150,noise=0.5"  # epochs long enough to be killed in the middle of one
TOLERANCE = 0.15  # test accuracy, resumed vs uninterrupted (shuffling order and plateau counter are not restored)


cli = gaitbnn_command


def history(run_dir):
    with open(run_dir / runs.HISTORY_FILE) as f:
        return list(csv.DictReader(f))


def test_kill_9_mid_training_then_resume(tmp_path):
    args = ("train", "bipedalnet", "--data", SLOW, "--epochs", 6, "--batch-size", 32)
    reference = tmp_path / "reference"
    subprocess.run(cli(*args, "--out", reference), check=True, capture_output=True)

    run_dir = tmp_path / "killed"
    kill_9_during(cli(*args, "--out", run_dir), run_dir / runs.HISTORY_FILE, 3, timeout=300)
    assert not (run_dir / runs.METRICS_FILE).exists() and not (run_dir / runs.MODEL_FILE).exists()
    before = history(run_dir)

    resumed = subprocess.run(cli(*args, "--out", run_dir), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming bipedalnet" in resumed.stdout
    after = history(run_dir)
    assert [int(r["epoch"]) for r in after] == list(range(6))
    kept = [r for r in before if int(r["epoch"]) < int(after[len(before) - 1]["epoch"]) + 1][: len(before) - 1]
    assert kept and after[: len(kept)] == kept  # rows written before the kill are kept as they were
    for folder in (run_dir, reference):  # one line ending throughout, CSVLogger's CRLF, resumed or not
        raw = (folder / runs.HISTORY_FILE).read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n") == 7
    metrics = json.loads((run_dir / runs.METRICS_FILE).read_text())
    expected = json.loads((reference / runs.METRICS_FILE).read_text())
    assert metrics["resumed"] is True and metrics["epochs"] == 6
    assert abs(metrics["test_accuracy"] - expected["test_accuracy"]) <= TOLERANCE
    assert not (run_dir / "backup").exists()


def test_trim_history_keeps_the_rows_byte_for_byte(tmp_path):
    path = tmp_path / runs.HISTORY_FILE
    rows = [b"epoch,accuracy,val_accuracy\r\n", b"0,0.5,0.25\r\n", b"1,0.75,0.5\r\n", b"2,0.8,0.4\r\n",
            b"3,0.9"]  # the last row cut short by the kill
    path.write_bytes(b"".join(rows))
    assert run_backup.trim_history(path, 1) == 0.5
    assert path.read_bytes() == b"".join(rows[:3])
    assert run_backup.trim_history(tmp_path / "none.csv", 1) is None


def test_rerun_from_config_gives_the_same_metrics(trained_run, tmp_path):
    from click.testing import CliRunner

    from gaitbnn.cli import main

    run_dir, metrics, _ = trained_run
    result = CliRunner().invoke(main, ["train", "--config", str(run_dir / "config.json"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / runs.METRICS_FILE).read_text())
    assert again["test_accuracy"] == metrics["test_accuracy"]
    config = json.loads((tmp_path / runs.CONFIG_FILE).read_text())
    assert {"tensorflow", "larq", "larq-compute-engine", "gaitbnn"} <= set(config["versions"]) and config["seed"] == 0


MIRRORED = f"""
import json, sys
import gaitbnn, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from gaitbnn import data
from gaitbnn.training import fit
kind = sys.argv[1]
dataset = data.load("{TINY}", (6, 98, 1), seed=0)
metrics = fit.train("bipedalnet", dataset, sys.argv[2], epochs=10, batch_size=32, seed=0, verbose=0, distribute=kind)
replicas = tf.distribute.MirroredStrategy().num_replicas_in_sync if kind == "mirrored" else 1
print(json.dumps({{"accuracy": metrics["test_accuracy"], "replicas": replicas}}))
"""


def test_mirrored_on_two_cpu_devices_learns_like_one(tmp_path):
    results = {}
    for kind in ("none", "mirrored"):
        done = subprocess.run([sys.executable, "-c", MIRRORED, kind, str(tmp_path / kind)], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["mirrored"]["replicas"] == 2
    assert results["none"]["accuracy"] >= 0.7 and results["mirrored"]["accuracy"] >= 0.7
    assert abs(results["mirrored"]["accuracy"] - results["none"]["accuracy"]) <= TOLERANCE


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_multiworker_on_two_local_processes(trained_run, tmp_path):
    """Two worker processes on 127.0.0.1, each with its TF_CONFIG, the same command and --out: both exit 0, the
    chief (worker 0) writes a complete run, the other writes nothing into it, and it learns like one process."""
    _, single, _ = trained_run
    cluster = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    out = tmp_path / "run"
    command = cli("train", "bipedalnet", "--data", TINY, "--epochs", 12, "--batch-size", 32, "--seed", 0,
                  "--distribute", "multiworker", "--out", out)
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": {"worker": cluster},
                                                      "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, cwd=tmp_path))
    try:
        outputs = [w.communicate(timeout=600)[0] for w in workers]
    finally:
        for w in workers:
            w.kill()
    for w, output in zip(workers, outputs):
        assert w.returncode == 0, output[-3000:]
    metrics = json.loads((out / runs.METRICS_FILE).read_text())
    config = json.loads((out / runs.CONFIG_FILE).read_text())
    assert config["distribute"] == "multiworker"
    # the chief's complete run, the same files as a single process's, nothing else
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in trained_run[0].iterdir())
    assert metrics["test_accuracy"] >= 0.7
    assert abs(metrics["test_accuracy"] - single["test_accuracy"]) <= TOLERANCE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the other worker left nothing in the cwd
