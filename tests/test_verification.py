"""Open-set verification (issue 28): the scores on constructed data, the people split, enrolment, the loaders on
written OU-ISIR files, learning on synthetic people, the CLI's --protocol verification, and bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import shared_data, shared_once, write_ouisir
from gaitbnn.authentication import verification as scores
from gaitbnn.cli import main
from gaitbnn.data import ou_isir
from gaitbnn.data import verification as protocol
from gaitbnn.errors import InputError

TINY = "synthetic:users=14,seconds=10"


def test_error_rates_of_constructed_scores():
    """Genuine distances 0..9, impostors 8..17: at threshold 8 one of ten of each is wrong, so the EER is 10%;
    accepting every genuine (<= 9) lets 2 of 10 impostors in; keeping impostors out (<= 7) rejects 2 genuine."""
    rates = scores.error_rates(np.arange(10.0), np.arange(8.0, 18.0))
    assert rates["eer"] == pytest.approx(0.1)
    assert rates["threshold"] == pytest.approx(8.0)
    assert rates["far_at_frr1"] == pytest.approx(0.2)
    assert rates["frr_at_far1"] == pytest.approx(0.2)
    assert scores.error_rates([0.0, 1.0], [2.0, 3.0])["eer"] == 0.0
    assert scores.error_rates([2.0, 3.0], [0.0, 1.0])["eer"] == 1.0


def test_evaluate_scores_every_probe_against_every_enrolled_person():
    """Three people, embeddings near one point per person: every probe is closest to its own person."""
    rng = np.random.default_rng(0)
    person = np.repeat([0, 1, 2], 4)
    enrolment = np.tile([True, True, False, False], 3)
    walk = np.array([f"p{p}/{'w1' if e else 'w2'}" for p, e in zip(person, enrolment)])
    centres = np.eye(3) * 10
    embeddings = centres[person] + rng.normal(scale=0.1, size=(12, 3))
    result = scores.evaluate(embeddings, person, walk, enrolment, scores.EUCLIDEAN, margin=1.5)
    assert (result["eer"], result["eer_walk"], result["rank1"], result["rank1_walk"]) == (0.0, 0.0, 1.0, 1.0)
    assert (result["genuine"], result["impostor"]) == (6, 12)  # 6 probe windows x 1 own / 2 other people
    assert (result["genuine_walk"], result["impostor_walk"], result["people"]) == (3, 6, 3)
    assert result["sprt"]["far"] == 0.0  # impostors 10 apart: rejected at once
    swapped = scores.evaluate(embeddings[::-1], person, walk, enrolment, scores.COSINE)
    assert "sprt" not in swapped


def _ouisir_tree(root, people=8, rows=520, walks=2):
    """People ID000001.. whose accelerometer z offset (in g) is their number: it shows whose windows are where."""
    for p in range(1, people + 1):
        for w in range(1, walks + 1):
            path = write_ouisir(root / f"T0_ID{p:06d}_Walk{w}.csv", rows, seed=10 * p + w)
            lines = path.read_text().splitlines()
            body = [row.split(",") for row in lines[2:]]
            for row in body:
                row[5] = f"{float(row[5]) + p:.6f}"
            path.write_text("\n".join(lines[:2] + [",".join(row) for row in body]) + "\n")
    return root


def test_ouisir_inertial_reads_both_sensors_in_the_gait_channel_order(tmp_path):
    write_ouisir(tmp_path / "T0_ID000104_Walk1.csv", 300)
    recording = ou_isir.inertial_recordings(tmp_path)[0]
    raw = np.loadtxt(tmp_path / "T0_ID000104_Walk1.csv", delimiter=",", skiprows=2)
    assert recording.signal.shape == (300, 6)
    np.testing.assert_allclose(recording.signal[:, :3], raw[:, 3:] * ou_isir.STANDARD_GRAVITY)  # m/s^2
    np.testing.assert_allclose(recording.signal[:, 3:], raw[:, :3])  # rad/s


def test_people_split_is_subject_disjoint_and_enrolment_uses_only_the_first_walk(tmp_path):
    data = protocol.load(f"ouisir:{_ouisir_tree(tmp_path)}", seed=3, train_share=0.5)
    assert len(data.train_people) == len(data.test_people) == 4
    assert not set(data.train_people) & set(data.test_people)
    acc_z = 2  # undo the standardization: each window's mean accelerometer z reveals its person (1 g steps)
    raw_z = lambda x: (x[:, acc_z, :, 0] * data.normalization["std"][acc_z] + data.normalization["mean"][acc_z])
    whose = np.round(raw_z(data.x_train).mean(axis=1) / ou_isir.STANDARD_GRAVITY).astype(int)
    assert {f"ID{p:06d}" for p in whose} == set(data.train_people)  # no test person's window in training
    tested = np.round(raw_z(data.x_test).mean(axis=1) / ou_isir.STANDARD_GRAVITY).astype(int)
    assert [f"ID{p:06d}" for p in tested] == [data.test_people[i] for i in data.test_person]
    assert all(w.endswith("_Walk1") for w in data.test_walk[data.enrolment])
    assert all(w.endswith("_Walk2") for w in data.test_walk[~data.enrolment])
    # 5.19 s walks at 49 Hz (98 samples per 2 s): 255 samples; windows every 1 s (49): 4 per walk; training
    # windows every 0.2 s (10 samples): 16 per walk
    assert data.enrolment.sum() == 4 * 4 and len(data.y_train) == 4 * 2 * 16
    again = protocol.load(f"ouisir:{tmp_path}", seed=3, train_share=0.5)
    assert again.test_people == data.test_people
    assert protocol.load(f"ouisir:{tmp_path}", seed=4, train_share=0.5).test_people != data.test_people


def test_spectrogram_windows_for_lenet4(tmp_path):
    data = protocol.load(f"ouisir:{_ouisir_tree(tmp_path)}", train_share=0.5, representation="spectrogram")
    assert data.input_shape == (51, 18, 1)
    assert abs(float(data.x_train.mean())) < 1e-4


@pytest.mark.parametrize("make, expected", [
    (lambda root: _ouisir_tree(root, walks=1), "every person has one recording"),
    (lambda root: _ouisir_tree(root, people=3), "needs at least 4"),
    (lambda root: _ouisir_tree(root, rows=150), "enrolment and a probe window"),
])
def test_bad_sources_are_one_clear_error(tmp_path, make, expected):
    with pytest.raises(InputError, match=expected):
        protocol.load(f"ouisir:{make(tmp_path)}")


def test_a_share_that_leaves_one_side_too_small_is_refused(tmp_path):
    with pytest.raises(InputError, match="--train-share 0.9 of 8 people leaves 7 training and 1 test"):
        protocol.load(f"ouisir:{_ouisir_tree(tmp_path)}", train_share=0.9)


@pytest.fixture(scope="module")
def verification_run(tmp_path_factory):
    """bipedalnet-embedding trained once on synthetic people (additive-margin softmax, 4 epochs)."""
    def make(folder):
        result = CliRunner().invoke(main, ["train", "bipedalnet-embedding", "--data", TINY, "--epochs", "4",
                                           "--out", str(folder / "run")])
        assert result.exit_code == 0, result.output

    return shared_once(tmp_path_factory, "verification-run", make) / "run"


def test_binary_embedding_learns_to_verify_unseen_synthetic_people(verification_run):
    metrics = json.loads((verification_run / "metrics.json").read_text())
    assert metrics["people"] == 4 and metrics["train_people"] == 10  # 70% of 14
    assert metrics["eer_walk"] < 0.2 and metrics["eer"] < 0.3  # chance: 0.5
    assert metrics["rank1_walk"] > 0.5  # chance: 0.25
    assert (verification_run / "det.png").stat().st_size > 0


def test_run_keeps_the_scores_its_det_curves_are_drawn_from(verification_run):
    """The reproduction's combined DET plot reads them instead of re-scoring the run."""
    from gaitbnn.experiments.verification import _walk_curve
    from gaitbnn.training.metric import SCORES_FILE

    metrics = json.loads((verification_run / "metrics.json").read_text())
    curves = scores.load_curves(verification_run / SCORES_FILE)
    assert set(curves) == {"window", "walk"}
    assert (len(curves["walk"]["genuine"]), len(curves["walk"]["impostor"])) == \
        (metrics["genuine_walk"], metrics["impostor_walk"])
    assert len(curves["window"]["genuine"]) == metrics["genuine"]
    rates = scores.error_rates(curves["walk"]["genuine"], curves["walk"]["impostor"])
    assert rates["eer"] == pytest.approx(metrics["eer_walk"])
    assert np.array_equal(_walk_curve(verification_run, "am_softmax")["impostor"], curves["walk"]["impostor"])


def test_evaluate_protocol_verification_json_on_other_people(verification_run):
    """Another synthetic population (other seed): every person is new, and the keys the issue names are there."""
    other = "synthetic:users=6,seconds=10,seed=9"
    result = CliRunner().invoke(main, ["evaluate", str(verification_run), "--data", other, "--protocol",
                                       "verification", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for key in ("eer", "eer_walk", "rank1", "rank1_walk", "people", "genuine", "impostor"):
        assert key in report
    assert report["people"] == 6 and report["synthetic"] is True
    assert report["genuine"] + report["impostor"] == 6 * report["probe_windows"]


def test_evaluate_protocol_verification_of_a_classifier_run_is_one_line(trained_run):
    run_dir, _, _ = trained_run
    result = CliRunner().invoke(main, ["evaluate", str(run_dir), "--protocol", "verification"])
    assert result.exit_code == 1
    assert "the verification protocol needs an embedding run" in result.output
    assert "Traceback" not in result.output


def test_ouisir_real_walks_read_with_both_sensors():
    root = shared_data("ou-isir-inertial", "ManualExtractionData1", "IMUZCenter")
    data = protocol.load(f"ouisir:{root}", input_shape=(6, 98, 1))
    assert len(data.train_people) == 347 and len(data.test_people) >= 147  # 496 people, 70% trained
    assert set(data.test_walk[data.enrolment]) == {f"{p}/T0_{p}_Walk1" for p in data.test_people}
    gravity = np.linalg.norm(data.normalization["mean"][:3])  # mean accelerometer: gravity, m/s^2
    assert 8.0 < gravity < 11.0


@pytest.mark.parametrize("name", ["bipedalnet-embedding", "bipedalnet-float-ends-embedding"])
def test_binary_embedding_exports_to_at_most_48_kib_with_its_binary_convolutions(tmp_path, name):
    from gaitbnn import export, families

    model, x = families.fresh_model(name, seed=0, count=16)
    report = export.export(model, name, "arm64", tmp_path, x)
    assert report["size_bytes"] <= 48 * 1024
    assert report["ops"]["LceBconv2d"] == 3  # conv2, conv3, dense1; the embedding layer reads bn4's real values
    assert report["parity"]["max_abs_diff"] < 1e-4
    assert report["input"]["labels"]["embedding_size"] == 64


@pytest.mark.parametrize("beyond, cosine, passes", [(0, 1.0, True), (1, 0.9989, True), (4, 0.999, False),
                                                    (1, 0.95, False)])
def test_embedding_parity_allows_a_few_sign_ties_only(beyond, cosine, passes):
    """One real window of 64 whose first-layer sum lands within float rounding of a sign flips one bit in LCE
    (seen on OU-ISIR: 1 of 64, cosine 0.9989); more such inputs, or a direction off, is a conversion bug."""
    from gaitbnn import export

    parity = {"max_abs_diff": 0.09 if beyond else 0.0, "max_abs_output": 3.4, "argmax_agreement": 0.9,
              "inputs_beyond_limit": beyond, "min_cosine": cosine, "inputs_compared": 64}
    result = {"model": "bipedalnet-embedding", "target": "arm64", "parity": parity}
    if passes:
        export.check_parity(result)
    else:
        with pytest.raises(export.ParityError):
            export.check_parity(result)
    with pytest.raises(export.ParityError):  # a classifier keeps the strict rule
        export.check_parity({**result, "model": "bipedalnet", "parity": {**parity, "max_abs_diff": 0.09}})


def test_float_ends_embedding_is_table_1_body_with_a_real_valued_first_layer():
    """The variant changes conv1's weights from +-1 to float16 values, nothing else: same layers, same counts."""
    from gaitbnn import models

    table1, variant = (models.build(n, (6, 98, 1), 64) for n in ("bipedalnet-embedding",
                                                                  "bipedalnet-float-ends-embedding"))
    assert [(layer.name, layer.count_params()) for layer in table1.layers] == \
        [(layer.name, layer.count_params()) for layer in variant.layers]
    def quantizer(model):
        return model.get_layer("conv1").get_config()["kernel_quantizer"]["class_name"]

    assert quantizer(table1) == "SteSign"
    assert quantizer(variant).endswith("HalfPrecision")
    conv1 = variant.get_layer("conv1")
    conv1.set_weights([np.full_like(w, 0.3) for w in conv1.get_weights()])  # real weights stay real
    assert np.allclose(conv1.kernel_quantizer(conv1.kernel).numpy(), 0.3, atol=1e-3)  # +-1 would be 1


def test_reproduction_rows_keep_their_own_epochs_unless_epochs_is_given():
    from gaitbnn.experiments import load_config
    from gaitbnn.experiments.verification import CONFIG, plan_rows

    plan = load_config(CONFIG)["plan"]
    real = {"epochs": 30, "reduced": False}
    own = {(r["model"], r["loss"]): r["epochs"] for r in plan_rows(plan, real, None)}
    assert own[("bipedalnet-float-ends-embedding", "am_softmax")] == 120
    assert own[("idnet-embedding", "am_softmax")] == 120  # binary and float trained alike, per loss
    assert own[("lenet4", "contrastive")] == 20
    assert {r["epochs"] for r in plan_rows(plan, {**real, "epochs": 3}, 3)} == {3}
    assert {r["epochs"] for r in plan_rows(plan, {"epochs": 8, "reduced": True}, None)} == {8}
    assert [r["model"] for r in plan_rows(plan, {**real, "models": ["lenet4"]}, None)] == ["lenet4"]
