"""On-device siamese authentication (MM'19): spectrograms, contrastive loss, reservoir, SPRT, transfer, loaders,
the on-device training export and the CLI."""
import json

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from gaitbnn.authentication import reservoir
from gaitbnn.authentication.sprt import ACCEPT, CONTINUE, REJECT, SPRT
from gaitbnn.cli import main
from gaitbnn.data import auth, mcgill, ou_isir, spectrogram, zju_gaitacc
from gaitbnn.errors import InputError
from gaitbnn.models import embeddings
from gaitbnn.training import pairs


def test_spectrogram_shape_and_a_known_tone_peaks_in_its_bin():
    t = np.arange(0, 20, 1 / spectrogram.RATE_HZ)
    tone = 6.25  # Hz: bin 8 of 0.78125 Hz bins
    acc = np.stack([np.sin(2 * np.pi * tone * t), np.zeros_like(t), 0.5 * np.sin(2 * np.pi * 2 * tone * t)], axis=1)
    segments = spectrogram.segments(t, acc)
    images = spectrogram.images(segments)
    assert segments.shape == (len(t) // spectrogram.SEGMENT, spectrogram.SEGMENT, 3)
    assert images.shape[1:] == spectrogram.SHAPE == (99, 25, 1)
    x_axis, z_axis = images[0, :33, :, 0], images[0, 66:, :, 0]
    assert np.all(np.argmax(x_axis, axis=0) == 8) and spectrogram.frequencies()[8] == tone
    assert np.all(np.argmax(z_axis, axis=0) == 16)
    assert np.allclose(images[0, 33:66], 0)  # the silent y axis
    assert spectrogram.sliding_windows(segments).shape[1:] == spectrogram.SW_SHAPE


def test_contrastive_loss_on_hand_made_pairs():
    loss = pairs.contrastive_loss(margin=1.5)
    y = tf.constant([1.0, 1.0, 0.0, 0.0])
    d = tf.constant([0.0, 0.5, 1.0, 2.0])
    # similar: d^2 -> 0, 0.25; dissimilar: max(1.5 - d, 0)^2 -> 0.25, 0
    assert float(loss(y, d)) == pytest.approx((0 + 0.25 + 0.25 + 0) / 4)
    model = pairs.siamese(embeddings.lenet4(input_shape=(20, 12, 1), embedding=8))
    a = np.random.default_rng(0).normal(size=(3, 20, 12, 1)).astype(np.float32)
    assert np.allclose(model.predict([a, a], verbose=0), 0, atol=1e-5)  # a sample is at distance 0 from itself


def test_reservoir_keeps_every_negative_equally_often_within_its_bound():
    rng = np.random.default_rng(0)
    stream, capacity, trials = 40, 10, 4000
    kept = np.zeros(stream)
    for _ in range(trials):
        box = reservoir.Reservoir(capacity, rng)
        for item in range(stream):
            box.offer(item)
            assert len(box.items) <= capacity
        kept[box.items] += 1
    rate = kept / trials
    assert np.allclose(rate, capacity / stream, atol=0.035), rate  # R / N = 0.25 each (sd ~0.007)
    owner, others = np.arange(4), np.arange(4, 60)
    pair_index, labels = reservoir.owner_pairs(owner, others, rng)
    assert len(pair_index) == 2 * len(owner) ** 2 and labels.sum() == len(owner) ** 2  # 2R, half positive
    assert np.isin(pair_index[labels == 0, 1], others).all() and np.isin(pair_index[labels == 1], owner).all()


def test_sprt_thresholds_accept_a_genuine_stream_and_reject_an_impostor():
    test = SPRT(margin=1.5, sigma2=0.25, alpha=0.01, beta=0.01)
    assert test.upper == pytest.approx(99.0) and test.lower == pytest.approx(0.01 / 0.99)
    rng = np.random.default_rng(1)
    decision, n, trace = test.run(np.abs(rng.normal(0.3, 0.15, size=50)))
    assert decision == ACCEPT and test.ratio <= test.lower and n == len(trace) and np.all(np.diff(trace) < 0)
    impostor = SPRT()
    assert impostor.run(rng.normal(1.4, 0.1, size=50))[0] == REJECT and impostor.ratio >= impostor.upper
    unsure = SPRT()
    assert unsure.update(0.75) == CONTINUE and unsure.ratio == pytest.approx(1.0)  # d = m / 2: no evidence


def test_freezing_really_freezes(tmp_path):
    embedding = embeddings.lenet4(input_shape=(20, 12, 1), embedding=8)
    pairs.freeze(embedding, ("conv1", "conv2"))
    model = pairs.siamese(embedding)
    pairs.compile_pairs(model, pairs.CONTRASTIVE, 1e-2)
    before = {layer: [w.copy() for w in embedding.get_layer(layer).get_weights()]
              for layer in ("conv1", "conv2", "conv3")}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 20, 12, 1)).astype(np.float32)
    pair_index, labels = reservoir.multi_class_pairs(np.repeat(np.arange(3), 4), 10, rng)
    pairs.fit_pairs(model, x, pair_index, labels, epochs=2, batch_size=5)
    for layer in ("conv1", "conv2"):
        assert all(np.array_equal(a, b) for a, b in zip(before[layer], embedding.get_layer(layer).get_weights()))
    assert not np.array_equal(before["conv3"][0], embedding.get_layer("conv3").get_weights()[0])


def test_embedding_networks_are_sized_as_the_paper_says():
    counts = {name: builder().count_params() for name, builder in
              (("lenet4", embeddings.lenet4), ("vgg8", embeddings.vgg8), ("mobilenetv2", embeddings.mobilenetv2))}
    assert counts["lenet4"] == 644_514  # the "650K parameters" model of Sec. 4.2.2
    assert 0.55 < counts["mobilenetv2"] / counts["lenet4"] < 0.65  # "40% less parameters"
    assert embeddings.conv_layers(embeddings.lenet4()) == ["conv1", "conv2", "conv3"]


@pytest.mark.parametrize("builder", [embeddings.lenet4, embeddings.lenet4_binary])
def test_siamese_learns_synthetic_people(builder):
    data = auth.load("synthetic:users=4,seconds=60", seed=0)
    rng = np.random.default_rng(0)
    pair_index, labels = reservoir.multi_class_pairs(data.y[data.train], 150, rng)
    tf.keras.utils.set_random_seed(0)
    model = pairs.siamese(builder())
    pairs.compile_pairs(model, pairs.CONTRASTIVE, 1e-3)
    pairs.fit_pairs(model, data.images, data.train[pair_index], labels, epochs=4)
    assert pairs.test_accuracy(model, pairs.CONTRASTIVE, data) >= 0.8  # chance 0.5


def write_mcgill(root, people=2, seconds=30):
    for p in range(people):
        for session in ("day1", "day2"):
            t = np.arange(0, seconds, 0.01)
            rows = [f"{s:.3f},{np.sin(7 * s + p):.4f},{np.cos(5 * s):.4f},{0.1 * p:.4f}" for s in t]
            (root / f"{p + 1:02d}").mkdir(parents=True, exist_ok=True)
            (root / f"{p + 1:02d}" / f"{session}.txt").write_text("time,x,y,z\n" + "\n".join(rows) + "\n")
    return root


def write_zju(root, people=2, samples=1200):
    for p in range(people):
        for session in (1, 2):
            folder = root / f"session_{session}" / f"subj_{p + 23:03d}" / "rec_1"
            folder.mkdir(parents=True)
            series = [",".join(f"{np.sin(0.1 * k * (a + 1) + p):.4f}" for k in range(samples)) for a in range(3)]
            (folder / "3.txt").write_text("\n".join(series) + "\n")
            (folder / "useful.txt").write_text(f"100,{samples}\n")
    return root


def write_ouisir(root, people=3, samples=800):
    root.mkdir(parents=True, exist_ok=True)
    for p in range(people):
        rows = [",".join(f"{v:.4f}" for v in (0, 0, 0, np.sin(0.2 * k + p), np.cos(0.1 * k), 1.0))
                for k in range(samples)]
        header = f"rows: {samples}\ncols: 6\n"
        (root / f"T0_ID{p + 104:06d}_Center_seq0.csv").write_text(header + "\n".join(rows) + "\n")
    return root


def test_loaders_read_their_layouts(tmp_path, padova_tree):
    recs = mcgill.recordings(write_mcgill(tmp_path / "mcgill"))
    assert [(r.user, r.session) for r in recs] == [("01", "day1"), ("01", "day2"), ("02", "day1"), ("02", "day2")]
    assert recs[0].signal.shape == (3000, 3) and recs[0].times[1] == pytest.approx(0.01)
    zju = zju_gaitacc.recordings(write_zju(tmp_path / "zju"))
    assert {r.user for r in zju} == {"subj_023", "subj_024"} and zju[0].session == "session_1/rec_1"
    assert zju[0].signal.shape == (1100, 3)  # useful.txt: samples 100..1200
    ou = ou_isir.recordings(write_ouisir(tmp_path / "ou"))
    assert [r.user for r in ou] == ["ID000104", "ID000105", "ID000106"]
    assert ou[0].signal[0, 2] == pytest.approx(9.80665)  # 1 g, read in m/s^2 like every other source
    data = auth.load(f"mcgill:{tmp_path / 'mcgill'}")
    assert data.people == ["01", "02"] and data.images.shape[1:] == spectrogram.SHAPE and not data.synthetic
    assert set(data.sessions) == {0, 1} and len(set(data.train) & set(data.test)) == 0
    idnet = auth.load(f"idnet:{padova_tree}")
    assert idnet.people == ["u001", "u002", "u003"] and idnet.images.shape[1:] == spectrogram.SHAPE
    attackers = auth.load(f"ouisir:{tmp_path / 'ou'}", split=False)
    assert len(attackers.test) == 3 * (800 // 2 // spectrogram.SEGMENT) and len(attackers.train) == 0
    assert abs(float(attackers.images.mean())) < 1e-3  # standardized on itself ...
    through_owner = auth.load(f"ouisir:{tmp_path / 'ou'}", split=False, normalization=data.normalization)
    assert through_owner.normalization == data.normalization  # ... or through the enrolled users' pipeline
    scale = data.normalization["image_std"] / attackers.normalization["image_std"]
    np.testing.assert_allclose(through_owner.images.std(), attackers.images.std() / scale, rtol=1e-3)


@pytest.mark.parametrize("case, message", [
    ("mcgill-missing", "no such dataset folder"),
    ("mcgill-empty", "no <subject>/<session>.txt"),
    ("mcgill-short", "needs 5"),
    ("zju-no-sensor", "missing 3.txt"),
    ("zju-bad-lines", "three equally long lines"),
    ("zju-bad-useful", "outside the"),
    ("ouisir-columns", "6 columns"),
    ("ouisir-text", "not comma-separated numbers"),
    ("unknown-source", "name the source"),
])
def test_loader_bad_inputs_say_what_and_where(tmp_path, case, message):
    kind = case.split("-")[0]
    root = tmp_path / kind
    if case == "mcgill-empty":
        root.mkdir()
    if case == "mcgill-short":
        write_mcgill(root, seconds=8)
    if kind == "zju" :
        write_zju(root)
        rec = root / "session_1" / "subj_023" / "rec_1"
        {"zju-no-sensor": lambda: (rec / "3.txt").unlink(),
         "zju-bad-lines": lambda: (rec / "3.txt").write_text("1,2,3\n4,5\n"),
         "zju-bad-useful": lambda: (rec / "useful.txt").write_text("0,99999\n")}[case]()
    if kind == "ouisir":
        write_ouisir(root)
        bad = root / "T0_ID000104_Center_seq0.csv"
        bad.write_text("1,2,3\n4,5,6\n" if case == "ouisir-columns" else "Gx\n1,a,3,4,5,6\n")
    spec = "lara:/x" if kind == "unknown" else f"{kind}:{root}"
    with pytest.raises(InputError, match=message):
        auth.load(spec, split=kind != "ouisir")


def test_on_device_training_export_trains_in_the_tflite_interpreter(tmp_path):
    from gaitbnn import ondevice

    embedding = embeddings.lenet4(input_shape=(20, 12, 1), embedding=8)
    x = np.random.default_rng(0).normal(size=(8, 20, 12, 1)).astype(np.float32)
    report = ondevice.export(embedding, "lenet4", tmp_path, x)
    assert report["signatures"] == ["infer", "restore", "save", "train"]
    assert report["infer_max_abs_diff"] < 1e-5
    losses = report["train_losses"]
    assert losses[-1] < losses[0] and all(b <= a for a, b in zip(losses, losses[1:]))
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "lenet4_train.tflite"))
    infer = interpreter.get_signature_runner("infer")
    train = interpreter.get_signature_runner("train")
    before = infer(x=x)["embedding"]
    checkpoint = str(tmp_path / "weights.ckpt")
    interpreter.get_signature_runner("save")(checkpoint_path=np.array(checkpoint, dtype=np.bytes_))
    batch = dict(first=x[:4], second=x[4:], label=np.array([1, 0, 1, 0], np.float32))
    for _ in range(3):
        train(**batch)
    assert not np.allclose(infer(x=x)["embedding"], before)
    interpreter.get_signature_runner("restore")(checkpoint_path=np.array(checkpoint, dtype=np.bytes_))
    assert np.allclose(infer(x=x)["embedding"], before, atol=1e-6)
    assert json.loads((tmp_path / "lenet4_train.json").read_text())["target"] == "train"
    with pytest.raises(InputError, match="binary layers"):
        ondevice.convert(embeddings.lenet4_binary(input_shape=(20, 12, 1), embedding=8))
    # the train signature timed as MM'19 measures it: seconds per epoch of pairs at batch 20
    from gaitbnn import benchmark
    from gaitbnn import flatbuffer as tflite_file

    flatbuffer = (tmp_path / "lenet4_train.tflite").read_bytes()
    assert "train" in tflite_file.signature_names(flatbuffer)
    timing = benchmark.time_training_epochs(flatbuffer, pairs=40, epochs=2)
    assert timing["seconds_per_epoch"] > 0 and timing["pairs"] == 40 and timing["batch_size"] == 20
    printed = CliRunner().invoke(main, ["benchmark", str(tmp_path / "lenet4_train.tflite")])
    assert printed.exit_code == 0, printed.output
    assert "s per epoch of 400 pairs at batch 20" in printed.output
    assert benchmark.machine() in printed.output  # labelled with this machine's architecture


def test_cli_trains_and_exports_for_on_device_training(tmp_path):
    run = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "lenet4", "--data", "synthetic:users=3,seconds=40", "--epochs", "1",
                                       "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert "test pair accuracy" in result.output and (run / "metrics.json").exists()
    # the run contract of every model: versions in config.json, history.csv, curves, no backup left
    config = json.loads((run / "config.json").read_text())
    assert config["versions"]["larq"] and config["family"] == "auth" and config["split"] == "windows"
    assert (run / "history.csv").read_text().startswith("epoch,loss") and (run / "training_curves.png").exists()
    assert not (run / "backup").exists()
    recorded = json.loads((run / "metrics.json").read_text())["test_accuracy"]
    result = CliRunner().invoke(main, ["evaluate", str(run)])
    assert result.exit_code == 0 and f"test pair accuracy {100 * recorded:.2f}%" in result.output, result.output
    result = CliRunner().invoke(main, ["export", str(run), "--target", "arm64", "--out", str(tmp_path / "arm64")])
    assert result.exit_code == 0 and (tmp_path / "arm64" / "lenet4.tflite").exists(), result.output
    result = CliRunner().invoke(main, ["export", str(run), "--target", "train", "--out", str(tmp_path / "phone")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "phone" / "lenet4_train.tflite").exists()
    assert "signatures infer, restore, save, train" in result.output
    refused = CliRunner().invoke(main, ["export", "bipedalnet", "--target", "train", "--out", str(tmp_path / "no")])
    assert refused.exit_code == 1 and "--target train is not for bipedalnet" in refused.output
    assert not (tmp_path / "no").exists()


def test_paper_table2_is_target_rows_and_source_columns():
    """MM'19 Table 2: a row's gain/loss is its mean over sources minus its TARGET's from-scratch accuracy."""
    from gaitbnn.experiments import load_config
    from gaitbnn.experiments.siamese import paper_table2

    config = load_config("siamese_tables")
    scratch = {r["dataset"]: r["binary_contrastive"] for r in config["table1"]["rows"] if r["model"] == "lenet4"}
    for row in config["table2"]["rows"]:
        mean = np.mean([row[f"from_{s}"] for s in ("mcgill", "idnet", "zju")])
        assert mean - scratch[row["target"]] == pytest.approx(row["gain_loss_percent"] / 100, abs=0.0015), row
    printed = paper_table2(config["table2"])
    assert list(printed.columns) == ["target", "frozen", "from McGill", "from IDNet", "from ZJU",
                                     "gain/loss vs scratch"]
    assert printed.iloc[0].tolist() == ["McGill", "fconv1-3", "0.933", "0.903", "0.907", "-5.2%"]


def test_continuous_update_reports_the_mean_over_fine_tuning_epochs(tmp_path):
    """Sec. 4.2.4 reports "the mean acceptance percentage over all fine-tuning epochs", not the last epoch."""
    from gaitbnn.experiments import siamese as experiment
    from gaitbnn.experiments.steps import Steps

    data = auth.load("synthetic:users=3,sessions=2,seconds=40,drift=0.5", seed=0)
    setting = dict(owners=1, epochs=3, batch_size=20, learning_rate=1e-3, update_learning_rate=1e-4,
                   update_data_fraction=0.2)
    (row,) = experiment.continuous_update(data, setting, 0, Steps(tmp_path, setting, 0)).to_dict("records")
    per_epoch = [float(v) for v in row["per fine-tuning epoch"].split(", ")]
    assert len(per_epoch) == 3
    assert row["acceptance after, mean over fine-tuning epochs"] == pytest.approx(np.mean(per_epoch), abs=1e-3)
    assert row["acceptance after, last epoch"] == pytest.approx(per_epoch[-1], abs=1e-3)


def test_binary_class_owners_are_everyone_or_a_seeded_sample_tested_on_the_entire_test_set():
    from gaitbnn.authentication import protocol

    data = auth.load("synthetic:users=6,seconds=40", seed=0)
    assert protocol.owners_of(data, "all") == list(range(6)) == protocol.owners_of(data, 9)
    sample = protocol.owners_of(data, 3, seed=5)
    assert len(sample) == 3 and sample == protocol.owners_of(data, 3, seed=5)  # seeded
    assert len({tuple(protocol.owners_of(data, 3, seed=s)) for s in range(6)}) > 1  # a random sample, not the first 3
    rng = np.random.default_rng(0)
    enrolled, probes, same = pairs.probe_pairs(data, data.test, rng, owner=2, balanced=False)
    assert len(probes) == len(data.test) and same.sum() == (data.y[data.test] == 2).sum()  # the entire test set
    enrolled, probes, same = pairs.probe_pairs(data, data.test, rng, owner=2)
    assert same.sum() == (~same).sum()  # balanced: as many impostors as genuine probes
    assert (data.y[enrolled] == 2).all() and set(data.y[probes[~same]]) <= set(range(6)) - {2}


def test_a_table_is_labelled_synthetic_only_for_the_synthetic_sources_it_uses():
    """Real owners with the default synthetic transfer source: Table 1 carries no warning, Table 2 names the
    transfer source, Table 3 none when the attackers are real too."""
    from gaitbnn.experiments.siamese import synthetic_warning

    assert synthetic_warning({"enrolled people": False}) == ""
    assert synthetic_warning({"enrolled people": False, "attackers": False}) == ""
    assert synthetic_warning({"enrolled people": False, "transfer source": True}).startswith(
        "**SYNTHETIC data (the transfer source), not the paper's datasets")
    both = synthetic_warning({"enrolled people": True, "attackers": True})
    assert "(the enrolled people, the attackers)" in both
