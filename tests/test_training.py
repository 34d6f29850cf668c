"""Training: learning on separable synthetic data, run files, reload, determinism."""
import csv
import json

import numpy as np

from conftest import TINY
from gaitbnn import data, runs
from gaitbnn.training import fit


def test_bipedalnet_learns_synthetic_users(trained_run):
    _, metrics, dataset = trained_run
    chance = 1 / dataset.classes
    assert metrics["test_accuracy"] >= max(0.7, 3 * chance)


def test_walk_vote_elects_each_walks_most_predicted_person():
    from gaitbnn.training import scoring

    walks = np.array(["a/1"] * 5 + ["a/2"] * 4 + ["b/1"] * 3)
    truth = np.array([0] * 9 + [1] * 3)
    predicted = np.array([0, 0, 0, 1, 2] + [1, 1, 0, 2] + [1, 1, 0])  # a/1 right (3 of 5), a/2 wrong, b/1 right
    assert scoring.vote_accuracy(truth, predicted, walks) == (2 / 3, 3)
    assert float(np.mean(predicted == truth)) == 6 / 12  # the single windows, for contrast


def test_a_run_records_the_vote_over_each_test_walk(trained_run):
    from gaitbnn.training import scoring

    out, metrics, dataset = trained_run
    walks = dataset.test_groups["walk"]
    assert metrics["test_walks"] == len(set(walks)) > 1
    predicted = fit.predict_classes(fit.load_model(out), dataset, dataset.x_test, "softmax")
    assert metrics["test_walk_accuracy"] == scoring.vote_accuracy(dataset.y_test, predicted, walks)[0]
    assert metrics["test_walk_accuracy"] >= 0.8  # most walks of separable users are named right


def test_a_run_records_each_persons_test_accuracy_and_held_out_walks(trained_run):
    out, metrics, dataset = trained_run
    predicted = fit.predict_classes(fit.load_model(out), dataset, dataset.x_test, "softmax")
    per_person = metrics["test_accuracy_per_class"]
    assert list(per_person) == [dataset.class_names[c] for c in np.unique(dataset.y_test)]
    for c in np.unique(dataset.y_test):
        assert per_person[dataset.class_names[c]] == float(np.mean(predicted[dataset.y_test == c] == c))
    # weighted by each person's test windows, the per-person figures give the test accuracy back
    counts = np.bincount(dataset.y_test)[np.unique(dataset.y_test)]
    assert np.isclose(np.dot(list(per_person.values()), counts) / counts.sum(), metrics["test_accuracy"])
    walks = dataset.test_groups["walk"]
    held_out = metrics["test_walks_per_class"]
    assert sum(len(v) for v in held_out.values()) == len(set(walks))
    assert held_out[dataset.class_names[dataset.y_test[0]]].count(str(walks[0])) == 1


def test_run_directory_is_complete(trained_run):
    out, metrics, _ = trained_run
    for name in (runs.MODEL_FILE, runs.CONFIG_FILE, runs.HISTORY_FILE, runs.CURVES_FILE, runs.METRICS_FILE):
        assert (out / name).is_file(), name
    assert not (out / runs.CHECKPOINT_FILE).exists()
    on_disk = json.loads((out / runs.METRICS_FILE).read_text())
    for key in ("model", "data", "test_accuracy", "params", "binary_params", "memory_bytes", "epochs", "train_seconds"):
        assert key in on_disk
    # Table 1's 296,416 binary weights, with the 38-way output replaced by this data's classes
    assert on_disk["binary_params"] == 296416 - 32 * 38 + 32 * on_disk["classes"]
    assert on_disk["synthetic"] is True
    with open(out / runs.HISTORY_FILE) as f:
        assert len(list(csv.DictReader(f))) == metrics["epochs"]
    assert (out / runs.CURVES_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_saved_run_reloads_to_the_same_accuracy(trained_run):
    out, metrics, dataset = trained_run
    model = fit.load_model(out)
    predicted = fit.predict_classes(model, dataset, dataset.x_test, "softmax")
    assert float(np.mean(predicted == dataset.y_test)) == metrics["test_accuracy"]


def test_same_seed_same_metrics(tmp_path):
    dataset = data.load(TINY, (6, 98, 1), seed=0)
    a = fit.train("bipedalnet", dataset, tmp_path / "a", epochs=2, batch_size=32, seed=5, verbose=0)
    b = fit.train("bipedalnet", dataset, tmp_path / "b", epochs=2, batch_size=32, seed=5, verbose=0)
    assert a["test_accuracy"] == b["test_accuracy"]
    wa = fit.load_model(tmp_path / "a").get_weights()
    wb = fit.load_model(tmp_path / "b").get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))


def test_a_broken_model_does_not_learn(tmp_path):
    """Shuffled labels: the same pipeline stays near chance, so the learning test can fail."""
    dataset = data.load(TINY, (6, 98, 1), seed=0)
    rng = np.random.default_rng(0)
    dataset.y_train = rng.permutation(dataset.y_train)
    metrics = fit.train("bipedalnet", dataset, tmp_path / "r", epochs=4, batch_size=32, seed=0, verbose=0)
    assert metrics["test_accuracy"] < 0.45


def test_evaluate_on_other_data_uses_the_statistics_the_model_was_trained_with(trained_run):
    from gaitbnn import families

    out, _, _ = trained_run
    config = json.loads((out / runs.CONFIG_FILE).read_text())
    other_source = "synthetic:users=5,seconds=60,noise=0.5,seed=99"
    other = families.run_dataset(config, other_source)
    own = data.load(other_source, (6, 98, 1), seed=config["seed"])  # the other data's own statistics
    assert other.normalization["mean"] == config["normalization"]["mean"] != own.normalization["mean"]
    stored_mean = np.reshape(config["normalization"]["mean"], (1, -1, 1, 1))
    stored_std = np.reshape(config["normalization"]["std"], (1, -1, 1, 1))
    own_mean = np.reshape(own.normalization["mean"], (1, -1, 1, 1))
    own_std = np.reshape(own.normalization["std"], (1, -1, 1, 1))
    raw = own.x_test * own_std + own_mean
    np.testing.assert_allclose(other.x_test, (raw - stored_mean) / stored_std, rtol=1e-4, atol=1e-4)
