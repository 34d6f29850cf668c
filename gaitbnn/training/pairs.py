"""Siamese training (MM'19 Sec. 3.1, Eq. 1): two copies of an embedding network with shared weights.

* ``contrastive``: the output is the Euclidean distance f of the two embeddings;
  the loss is Eq. 1, y f^2 + (1 - y) max(m - f, 0)^2 with y = 1 for a similar
  pair, margin m = 1.5 (Sec. 4.2), averaged over the batch (Eq. 1 sums; the mean
  only rescales the learning rate). A pair is judged similar when f < m / 2.
* ``cross_entropy``: the output is the probability that the pair is similar, a
  sigmoid unit on |phi_1 - phi_2| (Koch et al. 2015, the paper's ref. [14]),
  trained with binary cross-entropy; similar when p >= 0.5.

The softmax baselines put a softmax layer on the same embedding network. Feature
transfer (Sec. 4.2.3) freezes conv1, conv1-2 or conv1-3 of a source network;
continuous update (Sec. 4.2.4) fine-tunes from the previous weights with a lower
learning rate.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import larq as lq
import numpy as np
import tensorflow as tf

from gaitbnn import models, runs
from gaitbnn.authentication import reservoir
from gaitbnn.data import auth

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from gaitbnn.data.auth import AuthData

MARGIN = 1.5
CONTRASTIVE, CROSS_ENTROPY = "contrastive", "cross_entropy"
LOSSES = (CONTRASTIVE, CROSS_ENTROPY)


def contrastive_loss(margin: float = MARGIN) -> Callable:
    """Eq. 1 as a Keras loss on (y: 1 similar / 0 dissimilar, distance)."""
    def loss(y_true, distance):
        y = tf.cast(tf.reshape(y_true, [-1]), distance.dtype)
        d = tf.reshape(distance, [-1])
        return tf.reduce_mean(y * tf.square(d) + (1 - y) * tf.square(tf.maximum(margin - d, 0.0)))

    loss.__name__ = "contrastive_loss"
    return loss


@tf.keras.utils.register_keras_serializable(package="gaitbnn")
class PairDistance(tf.keras.layers.Layer):
    """Euclidean distance between two batches of embeddings, shape (batch, 1)."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        a, b = inputs
        return tf.sqrt(tf.reduce_sum(tf.square(a - b), axis=-1, keepdims=True) + 1e-12)


@tf.keras.utils.register_keras_serializable(package="gaitbnn")
class PairDifference(tf.keras.layers.Layer):
    """|a - b| per embedding dimension (the cross-entropy head's input)."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        a, b = inputs
        return tf.abs(a - b)


def siamese(embedding: tf.keras.Model, loss: str = CONTRASTIVE) -> tf.keras.Model:
    """The pair model around ``embedding`` (weights shared by both branches)."""
    a = tf.keras.Input(embedding.input_shape[1:], name="first")
    b = tf.keras.Input(embedding.input_shape[1:], name="second")
    ea, eb = embedding(a), embedding(b)
    if loss == CONTRASTIVE:
        out = PairDistance(name="distance")([ea, eb])
    else:
        difference = PairDifference(name="difference")([ea, eb])
        out = lq.layers.QuantDense(1, activation="sigmoid", name="similarity")(difference)
    return tf.keras.Model([a, b], out, name=f"siamese_{embedding.name}_{loss}")


def compile_pairs(model: tf.keras.Model, loss: str, learning_rate: float) -> None:
    if loss == CONTRASTIVE:
        model.compile(tf.keras.optimizers.Adam(learning_rate), contrastive_loss())
    else:
        model.compile(tf.keras.optimizers.Adam(learning_rate), "binary_crossentropy")


def similar(model: tf.keras.Model, loss: str, xa: np.ndarray, xb: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """True where the pair model judges (xa[i], xb[i]) the same person."""
    out = model.predict([xa, xb], batch_size=batch_size, verbose=0).reshape(-1)
    return out < MARGIN / 2 if loss == CONTRASTIVE else out >= 0.5


class EpochTimes(tf.keras.callbacks.Callback):
    """Wall seconds of each epoch (feature transfer's measured speed-up)."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.seconds = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def fit_pairs(model: tf.keras.Model, x: np.ndarray, pairs: np.ndarray, labels: np.ndarray, epochs: int,
              batch_size: int = 20, seed: int = 0, callbacks: tuple | list = ()) -> tuple:
    """Train the pair model on ``x[pairs[:, 0]], x[pairs[:, 1]]``; return (history, per-epoch seconds).

    ``callbacks``: more Keras callbacks, e.g. a run directory's (``runs.RunWriter.callbacks``).
    """
    timer = EpochTimes()
    tf.keras.utils.set_random_seed(seed)
    history = model.fit([x[pairs[:, 0]], x[pairs[:, 1]]], labels, batch_size=batch_size, epochs=epochs,
                        shuffle=True, verbose=0, callbacks=[timer, *callbacks])
    return history.history, timer.seconds


def softmax_classifier(embedding: tf.keras.Model, classes: int) -> tf.keras.Model:
    """The softmax baseline: the embedding network, then a softmax layer over the people."""
    x = tf.keras.layers.ReLU(name="embedding_relu")(embedding.output)
    out = lq.layers.QuantDense(classes, activation="softmax", name="softmax")(x)
    model = tf.keras.Model(embedding.input, out, name=f"softmax_{embedding.name}")
    model.compile(tf.keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def freeze(embedding: tf.keras.Model, layer_names: tuple | list) -> None:
    """Make ``layer_names`` (e.g. conv1, conv2) untrainable; recompile afterwards (Table 2: fconv1..fconv1-3)."""
    for name in layer_names:
        embedding.get_layer(name).trainable = False
    return embedding


def probe_pairs(data: AuthData, probes: np.ndarray, rng: np.random.Generator, owner: int | None = None,
                balanced: bool = True) -> tuple:
    """Test pairs (enrolled indices, probe indices, same-person flags) of an ``AuthData``.

    Each probe is paired with a random training sample of its own person and one of another person
    (balanced); with ``owner``, the owner's probes are paired with the owner's training samples (genuine)
    and as many other people's probes with them too (impostors), or, with ``balanced=False``, every other
    person's probe (the paper's "entire test set").
    """
    train_y = data.y[data.train]
    if owner is None:
        same = [rng.choice(data.train[train_y == data.y[p]]) for p in probes]
        other = [rng.choice(data.train[train_y != data.y[p]]) for p in probes]
        return np.array(same + other), np.concatenate([probes, probes]), np.repeat([True, False], len(probes))
    enrolled = data.train[train_y == owner]
    genuine = probes[data.y[probes] == owner]
    others = probes[data.y[probes] != owner]
    impostors = rng.choice(others, size=len(genuine), replace=False) if balanced else others
    return (rng.choice(enrolled, size=len(genuine) + len(impostors)), np.concatenate([genuine, impostors]),
            np.concatenate([np.ones(len(genuine), bool), np.zeros(len(impostors), bool)]))


def test_accuracy(model: tf.keras.Model, loss: str, data: AuthData, seed: int = 0) -> float:
    """Pair accuracy of ``model`` over ``data``'s test samples (multi-class pairs, ``probe_pairs``)."""
    enrolled, probes, same = probe_pairs(data, data.test, np.random.default_rng(seed))
    return pair_accuracy(model, loss, data.images[enrolled], data.images[probes], same)


def pair_accuracy(model: tf.keras.Model, loss: str, x_enrolled: np.ndarray, x_probe: np.ndarray,
                  same: np.ndarray) -> float:
    """Fraction of (enrolled, probe) pairs judged correctly, ``same`` saying which pairs are the same person."""
    return float(np.mean(similar(model, loss, x_enrolled, x_probe) == same))


def train_run(name: str, data_source: str, out: str | Path, epochs: int = 30, batch_size: int = 20,
              learning_rate: float = 0.001, seed: int = 0, pairs: int = 2000, force: bool = False,
              split: str = "windows") -> dict:
    """``gaitbnn train`` for an embedding network: multi-class contrastive training into run directory ``out``.

    The run directory has the contract of every run (``runs.RunWriter``): ``config.json`` with versions,
    ``history.csv``, ``training_curves.png``, resume after an interruption, the embedding network
    (``model.h5``, what ``gaitbnn export`` converts) and, last, ``metrics.json`` with the test pair accuracy.
    """
    data = auth.load(data_source, seed, split=split)
    if data.problems:
        data.problems.warn()
    config = {"model": name, "family": models.AUTH, "data": data.source, "synthetic": data.synthetic,
              "data_description": data.description, "input_shape": list(data.input_shape), "epochs": epochs,
              "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed, "pairs": pairs,
              "distribute": "none", "loss": CONTRASTIVE, "margin": MARGIN, "split": split,
              "data_options": data.options, "normalization": data.normalization, "class_names": data.people,
              "data_summary": data.summary, "data_problems": data.problems.as_list()}
    run = runs.RunWriter(out, config, force=force, monitor="loss")
    rng = np.random.default_rng(seed)
    tf.keras.utils.set_random_seed(seed)
    embedding = models.build(name)
    model = siamese(embedding, CONTRASTIVE)
    compile_pairs(model, CONTRASTIVE, learning_rate)
    pair_index, labels = reservoir.multi_class_pairs(data.y[data.train], pairs, rng)
    started = time.time()
    history, _ = fit_pairs(model, data.images, data.train[pair_index], labels, epochs, batch_size, seed,
                           callbacks=run.callbacks())
    train_seconds = time.time() - started
    run.save_model(embedding)
    run.training_done(f"{name}: {data.description}")
    accuracy = test_accuracy(model, CONTRASTIVE, data, seed)
    counts = models.count_params(embedding)
    return run.finish({"model": name, "data": data.source, "synthetic": data.synthetic,
                       "data_description": data.description, "test_accuracy": accuracy,
                       "test_pairs": 2 * len(data.test), "split": split, "final_loss": history["loss"][-1],
                       "train_seconds": train_seconds, "epochs": epochs, "resumed": run.resuming, **counts})
