"""The gait training ingredients (models.recipes): each does what it claims, and the best recipe learns."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY
from gaitbnn import data, models
from gaitbnn.data import dataset as gait_data
from gaitbnn.data.recordings import CHANNELS, Recording, overlapping_windows, windows_by_user
from gaitbnn.models import recipes
from gaitbnn.training import augment, distill, fit


def test_offtheshelf_binarized_idnet_is_idnet_with_larq_defaults():
    """Table 2 row 2: IDNet's own layers, each with sign inputs and weights, ReLU and pooling where IDNet has
    them, biases kept: the parameter count is IDNet's."""
    float_net = models.build("idnet", (6, 200, 1), 38)
    naive = models.build("idnet-offtheshelf", (6, 200, 1), 38)
    assert [(layer.name, type(layer).__name__) for layer in naive.layers] == \
        [(layer.name, type(layer).__name__) for layer in float_net.layers]
    assert [layer.name for layer in naive.layers] == [
        "signal", "conv1", "pool1", "relu1", "conv2", "pool2", "relu2", "dense1", "relu3", "dense2", "flatten",
        "softmax"]
    for layer in naive.layers:
        if layer.name.startswith(("conv", "dense")):
            config = layer.get_config()
            assert config["input_quantizer"]["class_name"] == "SteSign", layer.name
            assert config["kernel_quantizer"]["class_name"] == "SteSign", layer.name
            assert config["kernel_constraint"]["class_name"] == "weight_clip", layer.name
            assert config["use_bias"] is True, layer.name
    assert naive.count_params() == float_net.count_params() == 333840


def test_offtheshelf_binarized_idnet_sees_every_window_alike():
    """Why it collapses: after a ReLU every sign is +1, so from the second layer on all inputs look the same."""
    tf.keras.utils.set_random_seed(0)
    model = models.build("idnet-offtheshelf", (6, 200, 1), 5)
    x = np.random.default_rng(0).normal(size=(16, 6, 200, 1)).astype(np.float32)
    outputs = model.predict(x, verbose=0)
    assert np.ptp(outputs, axis=0).max() == 0.0
    assert np.ptp(models.build("idnet-binary", (6, 200, 1), 5).predict(x, verbose=0), axis=0).max() > 0


def test_rotation_keeps_each_sensor_norm():
    rng = np.random.default_rng(0)
    normalization = {"mean": rng.normal(size=6).tolist(), "std": rng.uniform(0.5, 2, size=6).tolist()}
    augmenter = augment.Augmenter(normalization, rotation=1.0, seed=3)
    x = rng.normal(size=(8, 6, 50, 1)).astype(np.float32)
    y = augmenter(tf.constant(x)).numpy()
    mean, std = np.reshape(normalization["mean"], (1, 6, 1)), np.reshape(normalization["std"], (1, 6, 1))
    raw_in, raw_out = x[..., 0] * std + mean, y[..., 0] * std + mean
    for start, stop in augment.SENSORS:
        np.testing.assert_allclose(np.linalg.norm(raw_out[:, start:stop], axis=1),
                                   np.linalg.norm(raw_in[:, start:stop], axis=1), rtol=1e-4)
    assert np.abs(raw_out - raw_in).max() > 0.1  # it did turn them


def test_rotation_turns_each_window_by_at_most_the_recipes_angle():
    """The best recipe's rotation (+-0.3 rad): each window's accelerometer and gyroscope turn by one rotation
    whose angle, recovered from the window itself, stays within the bound and reaches close to it."""
    limit = recipes.gait_recipe("best")["rotation"]
    rng = np.random.default_rng(1)
    normalization = {"mean": [0.0] * 6, "std": [1.0] * 6}
    x = rng.normal(size=(64, 6, 40, 1)).astype(np.float32)
    y = augment.Augmenter(normalization, rotation=limit, seed=5)(tf.constant(x)).numpy()
    (acc_start, acc_stop), (gyro_start, gyro_stop) = augment.SENSORS
    angles = []
    for before, after in zip(x[..., 0], y[..., 0]):
        acc, turned_acc = before[acc_start:acc_stop], after[acc_start:acc_stop]
        turn = np.linalg.lstsq(acc.T, turned_acc.T, rcond=None)[0].T  # turned_acc = turn @ acc
        np.testing.assert_allclose(turn @ before[gyro_start:gyro_stop], after[gyro_start:gyro_stop],
                                   atol=1e-4)  # the gyroscope turns alike
        angles.append(np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1)))
    assert max(angles) <= limit + 1e-3 and max(angles) > 0.8 * limit


def test_shift_and_scale_move_and_stretch_the_window():
    raw = tf.constant(np.arange(10, dtype=np.float32)[None, None, :].repeat(2, axis=0))
    shifted = augment.shift(raw, tf.constant([2, -3])).numpy()
    assert shifted[0, 0].tolist() == [2, 3, 4, 5, 6, 7, 8, 9, 9, 9]
    assert shifted[1, 0].tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    normalization = {"mean": [0.0] * 6, "std": [1.0] * 6}
    x = np.ones((4, 6, 20, 1), np.float32)
    scaled = augment.Augmenter(normalization, scale=0.1, seed=0)(tf.constant(x)).numpy()
    factors = scaled[:, 0, 0, 0]
    assert np.all((factors >= 0.9) & (factors <= 1.1)) and np.ptp(factors) > 0
    np.testing.assert_allclose(scaled, factors[:, None, None, None] * x)


def test_distillation_loss_uses_the_teacher():
    labels = tf.constant([0.0, 1.0])
    student = tf.constant([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    agreeing = tf.concat([labels[:, None], student], axis=1)
    disagreeing = tf.concat([labels[:, None], -3 * student], axis=1)
    loss = distill.DistillationLoss(alpha=0.5, temperature=4.0)
    assert float(loss(agreeing, student)) < float(loss(disagreeing, student))
    # alpha 1: the teacher is ignored, the loss is the cross-entropy on the label
    hard = distill.DistillationLoss(alpha=1.0)
    expected = tf.keras.losses.sparse_categorical_crossentropy(labels, student, from_logits=True)
    assert float(hard(disagreeing, student)) == pytest.approx(float(tf.reduce_mean(expected)), rel=1e-6)
    assert float(hard(agreeing, student)) == pytest.approx(float(hard(disagreeing, student)), rel=1e-6)


def test_distillation_targets_carry_label_and_teacher_logits():
    tf.keras.utils.set_random_seed(0)
    teacher = models.build("idnet", (6, 200, 1), 4)
    x = np.random.default_rng(0).normal(size=(3, 6, 98, 1)).astype(np.float32)
    targets = distill.numpy_targets(distill.logits_model(teacher), x, np.array([0, 3, 1]))
    assert targets.shape == (3, 5) and targets[:, 0].tolist() == [0, 3, 1]
    probabilities = teacher.predict(tf.image.resize(x, (6, 200)), verbose=0)
    np.testing.assert_allclose(tf.nn.softmax(targets[:, 1:]).numpy(), probabilities, atol=1e-5)


def ramp_recordings():
    """Two users' walks whose every sample holds its own time, so a window shows where it was cut."""
    out = []
    for user in ("a", "b"):
        for walk in range(3):
            times = np.arange(0, 9.0, 0.01)
            signal = np.repeat(times[:, None], len(CHANNELS), axis=1) + 100 * walk
            out.append(Recording(user, f"w{walk}", times, signal, f"{user}/w{walk}"))
    return out


@pytest.mark.parametrize("split", ["windows", "walks"])
def test_overlapping_training_windows_never_reach_another_split(split):
    recs = ramp_recordings()
    x, y, walks, users, places = windows_by_user(recs, 100, 1.0, 5)
    if split == "walks":
        train, val, test = gait_data.walk_split(y, walks, seed=0, users=users)
    else:
        train, val, test = gait_data.window_split(y, seed=0)
    held = np.concatenate([val, test])
    x_train, y_train = overlapping_windows(recs, {u: i for i, u in enumerate(users)}, 100, 1.0, 20, places[held])
    assert len(x_train) > 2 * len(train)  # many more windows than the plain cut
    held_spans = {(int(y[i]), round(float(x[i, 0, 0]), 3)) for i in held}  # (user, first time) of held windows
    for window, label in zip(x_train, y_train):
        first, last = window[0, 0], window[0, -1]
        for user, start in held_spans:
            if user == label and start // 100 == first // 100:  # same user, same walk
                assert last < start or first > start + 0.99 + 1e-6, (first, last, start)


def test_overlapping_windows_leave_validation_and_test_untouched():
    plain = data.load(TINY, (6, 98, 1), seed=0)
    overlapped = data.load(TINY, (6, 98, 1), seed=0, train_stride_seconds=0.5)
    assert len(overlapped.y_train) > 2 * len(plain.y_train)
    np.testing.assert_array_equal(overlapped.y_test, plain.y_test)
    raw = np.reshape(plain.normalization["std"], (1, 6, 1, 1)) * plain.x_test + \
        np.reshape(plain.normalization["mean"], (1, 6, 1, 1))
    raw_overlapped = np.reshape(overlapped.normalization["std"], (1, 6, 1, 1)) * overlapped.x_test + \
        np.reshape(overlapped.normalization["mean"], (1, 6, 1, 1))
    np.testing.assert_allclose(raw, raw_overlapped, atol=1e-3)
    assert overlapped.options["train_stride_seconds"] == 0.5


def test_best_recipe_learns_synthetic_gait_at_least_as_well_as_the_paper_recipe(tmp_path):
    source = "synthetic:users=6,sessions=2,seconds=30,noise=0.8,drift=0.3"
    accuracy = {}
    for name in ("paper", "best"):
        recipe_data, ingredients = recipes.split_recipe(recipes.gait_recipe(name))
        dataset = data.load(source, (6, 98, 1), seed=0, **recipe_data)
        metrics = fit.train("bipedalnet", dataset, tmp_path / name, epochs=6, batch_size=32, seed=0, verbose=0,
                            recipe=ingredients)
        accuracy[name] = metrics["test_accuracy"]
    assert accuracy["best"] >= accuracy["paper"]
    assert accuracy["best"] >= 3 / 6  # far above chance (1/6)


def test_unknown_recipe_is_an_input_error():
    from gaitbnn.errors import InputError

    with pytest.raises(InputError, match="unknown recipe 'fast': choose one of paper, best"):
        recipes.gait_recipe("fast")



def test_ablation_steps_add_each_ingredient_to_the_kept_ones_and_best_is_what_was_kept():
    from gaitbnn.experiments import bipedalnet_ablation

    plan = bipedalnet_ablation.steps()
    assert len(plan) == len(recipes.GAIT_ABLATION)
    kept_training, kept_model = {}, bipedalnet_ablation.STUDENT
    for (_, model, recipe, kept), (_, ingredients, _) in zip(plan, recipes.GAIT_ABLATION):
        assert "model" not in recipe and model in models.names()
        assert model == ingredients.get("model", kept_model)  # a variant from its step on, once kept
        training = {k: v for k, v in ingredients.items() if k != "model"}
        assert {k: v for k, v in recipe.items() if k != "name"} == {**kept_training, **training}
        if kept:
            kept_training.update(training)
            kept_model = model
    best = {k: v for k, v in recipes.gait_recipe("best").items() if k != "name"}
    assert kept_training == best  # the best recipe is the training ingredients the ablation kept
    assert kept_model == "bipedalnet-shortcuts"
