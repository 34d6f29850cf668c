"""Shared fixtures and writers of real dataset layouts: Padova/IDNet, LARa, CASIA-B, OU-ISIR; one trained run."""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import gaitbnn  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow)
from gaitbnn.data import lara

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# The slowest tests, marked `slow`: `make test` leaves them out, `make test-all` runs them, and CI runs both.
# They are full trainings of the large models and of every model through the CLI, multi-process training, kills
# and resumes, the 23M-parameter exports and the rest of a family's registry exports (10-140 s each on 2 cores).
# `make test` keeps one learning test per model family but the GEI one (L-ResNet-50's, 2 minutes), and each
# family's export with its binary ops and parity.
REGISTRY_EXPORT = "test_registry.py::test_model_builds_and_exports_with_its_binary_ops_and_parity"
SLOW = {
    "test_experiments.py::test_experiment_runs_through_the_cli_and_is_reused[lresnet]",
    "test_experiments.py::test_experiment_runs_through_the_cli_and_is_reused[siamese]",
    "test_experiments.py::test_experiment_runs_through_the_cli_and_is_reused[bipedalnet-ablation]",
    "test_lresnet.py::test_lresnet50_learns_synthetic_geis",
    "test_resume_and_scale.py::test_kill_9_mid_training_then_resume",
    "test_resume_and_scale.py::test_mirrored_on_two_cpu_devices_learns_like_one",
    "test_resume_and_scale.py::test_multiworker_on_two_local_processes",
    "test_activity_training.py::test_learns_synthetic_activities[tcnn]",
    "test_activity_training.py::test_learns_synthetic_activities[btcnn-conv1]",
    "test_activity_training.py::test_learns_synthetic_activities[btcnn-binary]",
    "test_activity_training.py::test_btcnn_can_start_from_the_trained_tcnn",
    "test_real_layouts.py::test_reproduce_btcnn_default_protocol_is_the_authors_and_is_recorded",
    "test_siamese.py::test_cli_trains_and_exports_for_on_device_training",
    "test_tcnn.py::test_fully_binary_btcnn_is_six_binary_convolutions_in_at_most_3_mib",
    "test_cli.py::test_bench_writes_the_table",
    "test_aarch64.py::test_bench_aarch64_writes_every_file",
    "test_recipes.py::test_best_recipe_learns_synthetic_gait_at_least_as_well_as_the_paper_recipe",
    "test_models.py::test_scaled_logits_variant_learns_synthetic_gait",
    "test_models.py::test_float_ends_variant_learns_synthetic_gait_at_least_as_well_as_table1",
    "test_models.py::test_shortcuts_variant_learns_synthetic_gait_at_least_as_well_as_table1",
    "test_models.py::test_scaled_logits_fold_into_the_last_binary_convolution",
    "test_siamese.py::test_siamese_learns_synthetic_people[lenet4_binary]",
    "test_lresnet.py::test_binary_variant_binarizes_only_the_residual_stages_primary_convolutions",
    "test_activity_training.py::test_cli_trains_a_btcnn_on_a_npz_and_evaluates_it",
    "test_experiments.py::test_experiment_runs_through_the_cli_and_is_reused[btcnn]",
    "test_experiments.py::test_experiment_runs_through_the_cli_and_is_reused[bipedalnet]",
    "test_experiments.py::test_experiment_runs_through_the_cli_and_is_reused[verification]",
    f"{REGISTRY_EXPORT}[idnet-embedding]",
    # another test of make test exports these, with their binary ops and parity: test_export, test_rewrites and
    # test_aarch64 bipedalnet; test_verification both embeddings; test_models float-ends and shortcuts
    *(f"{REGISTRY_EXPORT}[{name}]" for name in ("bipedalnet", "bipedalnet-embedding", "bipedalnet-float-ends-embedding",
                                                "bipedalnet-float-ends", "bipedalnet-shortcuts")),
    "test_resume_and_scale.py::test_rerun_from_config_gives_the_same_metrics",
    *(f"{REGISTRY_EXPORT}[{name}]" for name in ("lresnet50", "lresnet50-binary", "resnet50", "resnet50-zero-gamma")),
    *(f"test_registry.py::test_model_row_matches_the_snapshot[{name}]"  # each builds its ImageNet configuration
      for name in ("lresnet50", "lresnet50-binary", "resnet50", "resnet50-zero-gamma")),
    # the tCNN family keeps btcnn-binary and btcnn-conv1-4-attr in make test
    *(f"{REGISTRY_EXPORT}[{name}]" for name in ("tcnn", "btcnn-conv1", "btcnn-conv1-2", "btcnn-conv1-3",
                                                "btcnn-conv1-4", "tcnn-attr", "btcnn-conv1-attr",
                                                "btcnn-conv1-2-attr", "btcnn-conv1-3-attr", "btcnn-binary-attr")),
}
SLOW_MODULES = {"test_reproduce_resume.py"}


def pytest_collection_modifyitems(items):
    for item in items:
        test = item.nodeid.removeprefix("tests/")  # a parameter id may hold a slash
        if test in SLOW or test.split("::")[0] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def shared_data(*parts):
    """A folder of ../shared/data (real recordings), or skip the test saying why."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real recordings not here: {path} is absent (place that dataset there to run this check)")
    return path

TINY = "synthetic:users=5,seconds=60,noise=0.5"


def write_walk(root, user, walk, seconds=30.0, rate=100.0, seed=0, header=True, sep="\t", unit=1e9):
    """One walk folder of the Padova layout: accelerometer and gyroscope logs, timestamps in ``unit`` per s."""
    rng = np.random.default_rng(seed)
    folder = root / f"u{user:03d}_w{walk:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    for sensor, offset in (("accelerometer", 0.0), ("gyroscope", 0.003)):
        n = int(seconds * rate)
        t = np.arange(n) / rate + offset
        cadence = 0.8 + 0.1 * user
        xyz = np.stack([np.sin(2 * np.pi * cadence * (k + 1) * t + user) for k in range(3)], axis=1)
        xyz += rng.normal(scale=0.1, size=xyz.shape)
        lines = []
        if header:
            lines.append(sep.join([f"{sensor}_timestamp", f"{sensor}_x_data", f"{sensor}_y_data", f"{sensor}_z_data"]))
        stamps = (1_000_000 + t) * unit
        lines += [sep.join([f"{s:.6f}"] + [f"{v:.6f}" for v in row]) for s, row in zip(stamps, xyz)]
        (folder / f"{folder.name}_{sensor}.log").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def padova_tree(tmp_path):
    """3 users x 2 walks of 30 s in the Padova layout."""
    root = tmp_path / "padova"
    for user in (1, 2, 3):
        for walk in (1, 2):
            write_walk(root, user, walk, seed=10 * user + walk)
    return root


@pytest.fixture(autouse=True)
def fresh_keras_session():
    """Each test starts from an empty Keras session: models built by earlier tests of a worker do not slow its
    later ones (models a fixture holds keep working)."""
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        tf.keras.backend.clear_session()


def shared_once(tmp_path_factory, name, make):
    """A folder that ``make(folder)`` fills once for the whole session, however many pytest-xdist workers
    ask for it (the others wait on a lock, then read it). Tests only read it."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (folder / ".complete").write_text("")
    return folder


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A BiPedalNet run on tiny synthetic data, trained once for the session (for every worker)."""
    from gaitbnn import data
    from gaitbnn.training import fit

    dataset = data.load(TINY, (6, 98, 1), seed=0)

    def make(folder):
        fit.train("bipedalnet", dataset, folder / "bipedalnet", epochs=12, batch_size=32, seed=0, verbose=0)

    out = shared_once(tmp_path_factory, "trained-run", make) / "bipedalnet"
    return out, json.loads((out / "metrics.json").read_text()), dataset


def gaitbnn_command(*args):
    """The argv of a ``gaitbnn`` command run in a fresh process (as a user runs it)."""
    return [sys.executable, "-m", "gaitbnn.cli", *map(str, args)]


def kill_9_when(argv, ready, timeout=600, pause=0.15):
    """Start ``argv``; kill -9 it ``pause`` s after ``ready()`` first holds."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if ready():
            time.sleep(pause)
            break
        time.sleep(0.02)
    assert proc.poll() is None, "it ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def kill_9_during(argv, history_csv, epochs_done, timeout=600, pause=0.15):
    """Start ``argv``; kill -9 it once ``history_csv`` holds ``epochs_done`` epochs, ``pause`` s into the next."""
    kill_9_when(argv, lambda: history_csv.exists() and len(history_csv.read_text().splitlines()) > epochs_done,
                timeout, pause)  # a header, then epochs


def write_lara(root, sensors, subjects, seconds=3.0, seed=0):
    """Recordings of the published layout: Sxx/L01_Sxx_R01[...].csv and its _labels.csv."""
    rng = np.random.default_rng(seed)
    info = lara.SENSORS[sensors]
    n = int(seconds * info["rate"])
    for _k, subject in enumerate(subjects):
        folder = root / subject
        folder.mkdir(parents=True, exist_ok=True)
        classes = np.repeat(np.arange(n // 50 + 1) % 8, 50)[:n]
        signal = rng.normal(size=(n, len(info["channels"]))) + classes[:, None]
        if sensors == "mbientlab":
            stem = f"L01_{subject}_R01"
            data = pd.DataFrame(signal, columns=info["channels"])
            data.insert(0, "Time", np.arange(n) / info["rate"])
            data_name = stem + ".csv"
        else:
            stem = f"L01_{subject}_R01_A17_N01"
            names = [c.replace("_R", " R").replace("_T", " T") for c in info["channels"]]  # 'head RX' as published
            data = pd.DataFrame(signal, columns=names)
            data.insert(0, "classlabel", classes)
            data.insert(0, "sample", np.arange(n))
            for c in ("RX", "RY", "RZ", "TX", "TY", "TZ"):
                data[f"lower_back {c}"] = 0.0
            data_name = stem + "_norm_data.csv"
        data.to_csv(folder / data_name, index=False)
        labels = pd.DataFrame(np.zeros((n, 19), int), columns=lara.ATTRIBUTE_NAMES)
        labels.insert(0, "Class", classes)
        labels["I-A_GaitCycle"] = (classes == 1).astype(int)
        labels.to_csv(folder / f"{stem}_labels.csv", index=False)
    return root


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.asarray(array) * 255).astype(np.uint8)).save(path)


def write_ouisir(path, rows, gyro_zero=False, header_rows=None, seed=0):
    """One OU-ISIR walk as published: 'rows: N', 'cols: 6', then Gx,Gy,Gz,Ax,Ay,Az (rad/s, g) at 100 Hz."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows) / 100.0
    gyro = np.zeros((rows, 3)) if gyro_zero else \
        0.3 * np.sin(2 * np.pi * 1.8 * t)[:, None] + rng.normal(0, .05, (rows, 3))
    acc = np.stack([0.1 * np.sin(2 * np.pi * 1.8 * t), -1.0 + 0.2 * np.sin(2 * np.pi * 3.6 * t + seed),
                    0.05 * rng.normal(size=rows)], axis=1)
    lines = [f"rows: {rows if header_rows is None else header_rows}", "cols: 6"]
    lines += [",".join(f"{v:.6f}" for v in row) for row in np.concatenate([gyro, acc], axis=1)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def silhouette(height=30, width=40, column=10, pixels_high=20):
    """A 0/1 frame with a standing 6-pixel-wide block (one walker's silhouette)."""
    frame = np.zeros((height, width))
    frame[5:5 + pixels_high, column:column + 6] = 1
    return frame


def write_casia_sequence(root, subject, condition, view, frames=2):
    folder = root / subject / condition / f"{view:03d}"
    for k in range(frames):
        write_png(folder / f"{subject}-{condition}-{view:03d}-{k + 1:03d}.png", silhouette(column=8 + 3 * k))
    return folder
