"""Metric learning of gait embeddings for open-set verification (issue 28), into a run directory.

Two losses over the training people (``LOSSES``):

* ``contrastive``: MM'19 Eq. 1 (``training.pairs``) on pairs of training windows, one of the same person and
  one of another per window, drawn once with the seed; margin 1.5; Euclidean distances.
* ``am_softmax``: the additive-margin softmax (Wang et al., "Additive Margin Softmax for Face Verification",
  IEEE SPL 2018; CosFace): the embedding and one weight vector per training person are L2-normalized, the
  logits are s (cos theta_j - m [j = y]) with s = 30 and m = 0.35, trained with cross-entropy. The weight
  vectors are a training head only: the exported network is the embedding, compared by cosine distance.

Adam with cosine decay to 0 over the run; on gait signals the ``best`` recipe's augmentation (a phone turning in
the pocket, time shift, amplitude: ``training.augment``) on every training window of every epoch. The run
directory has every run's contract (``runs.RunWriter``: resume after an interruption, ``metrics.json`` last);
its metrics are the verification protocol's figures on the run's own test people.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from gaitbnn import models, runs
from gaitbnn.authentication import verification
from gaitbnn.authentication.reservoir import multi_class_pairs
from gaitbnn.data.verification import SIGNAL, VerificationData
from gaitbnn.errors import InputError
from gaitbnn.progress import Progress
from gaitbnn.training import augment, pairs

AM_SOFTMAX, CONTRASTIVE = "am_softmax", pairs.CONTRASTIVE
LOSSES = (AM_SOFTMAX, CONTRASTIVE)
AM_SCALE, AM_MARGIN = 30.0, 0.35
METRIC_OF = {AM_SOFTMAX: verification.COSINE, CONTRASTIVE: verification.EUCLIDEAN}
DET_FILE = "det.png"
SCORES_FILE = "scores.npz"  # the DET curves' genuine and impostor scores, per window and per walk


@tf.keras.utils.register_keras_serializable(package="gaitbnn")
class CosineClassifier(tf.keras.layers.Layer):
    """cos theta between the L2-normalized input and each of ``classes`` L2-normalized weight vectors."""

    def __init__(self, classes: int, **kwargs):
        super().__init__(**kwargs)
        self.classes = int(classes)

    def build(self, input_shape: tf.TensorShape) -> None:
        self.centres = self.add_weight(name="centres", shape=(int(input_shape[-1]), self.classes),
                                       initializer="glorot_uniform")

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.matmul(tf.math.l2_normalize(inputs, axis=1), tf.math.l2_normalize(self.centres, axis=0))

    def get_config(self) -> dict:
        return {**super().get_config(), "classes": self.classes}


def am_softmax_loss(scale: float = AM_SCALE, margin: float = AM_MARGIN) -> Callable:
    """Cross-entropy of s (cos - m at the true class) (y: person index, cos: ``CosineClassifier``'s output)."""
    def loss(y_true, cosines):
        onehot = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), tf.shape(cosines)[1], dtype=cosines.dtype)
        logits = scale * (cosines - margin * onehot)
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, logits))

    loss.__name__ = "am_softmax_loss"
    return loss


class EpochProgress(tf.keras.callbacks.Callback):
    """One line per epoch at most every 10 s: epochs done, elapsed, time left (``progress.Progress``)."""

    def __init__(self, epochs: int, label: str):
        super().__init__()
        self.timer = Progress(epochs, label)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.timer.step(epoch + 1)


def _training_data(data: VerificationData, loss: str, batch_size: int, augmenter, seed: int) -> tf.data.Dataset:
    if loss == AM_SOFTMAX:
        return augment.augmented(data.x_train, data.y_train, batch_size, augmenter, seed)
    index, labels = multi_class_pairs(data.y_train, len(data.y_train), np.random.default_rng(seed))
    x = tf.constant(data.x_train)
    ds = tf.data.Dataset.from_tensor_slices((index, labels)).shuffle(len(labels), seed=seed,
                                                                     reshuffle_each_iteration=True).batch(batch_size)
    view = augmenter or (lambda batch: batch)
    return ds.map(lambda i, y: ((view(tf.gather(x, i[:, 0])), view(tf.gather(x, i[:, 1]))), y)).prefetch(2)


def _trainee(embedding: tf.keras.Model, loss: str, people: int) -> tf.keras.Model:
    if loss == AM_SOFTMAX:
        return tf.keras.Model(embedding.input, CosineClassifier(people, name="am_softmax")(embedding.output))
    return pairs.siamese(embedding, CONTRASTIVE)


def embed(model: tf.keras.Model, x: np.ndarray) -> np.ndarray:
    return model.predict(x, batch_size=256, verbose=0)


def score_run(model: tf.keras.Model, data: VerificationData, loss: str) -> dict:
    """The protocol's figures of an embedding network on ``data``'s test people."""
    return verification.evaluate(embed(model, data.x_test), data.test_person, data.test_walk, data.enrolment,
                                 METRIC_OF[loss], pairs.MARGIN if loss == CONTRASTIVE else None)


def public(result: dict) -> dict:
    """``verification.evaluate``'s figures without the raw scores (for metrics.json and --json)."""
    return {k: v for k, v in result.items() if k != "curves"}


def train(name: str, data: VerificationData, out: str | Path, loss: str = AM_SOFTMAX, epochs: int = 30,
          batch_size: int = 64, learning_rate: float = 1e-3, seed: int = 0, augmentation: dict | None = None,
          force: bool = False) -> dict:
    """Train registered embedding network ``name`` on ``data``'s training people; score its test people."""
    if loss not in LOSSES:
        raise InputError(f"--loss {loss}: use one of {', '.join(LOSSES)}")
    augmentation = {k: float(v) for k, v in (augmentation or {}).items() if v} if data.representation == SIGNAL \
        else {}
    spec = models.get_spec(name)
    config = {"model": name, "family": models.VERIFY, "head": "embedding", "data": data.source,
              "synthetic": data.synthetic, "data_description": data.description,
              "input_shape": list(data.input_shape), "classes": spec.classes, "embedding": spec.classes,
              "train_people": data.train_people, "test_people": data.test_people, "loss": loss,
              "metric": METRIC_OF[loss], "margin": pairs.MARGIN if loss == CONTRASTIVE else AM_MARGIN,
              "epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
              "distribute": "none", "augmentation": augmentation, "data_options": data.options,
              "normalization": data.normalization, "data_summary": data.summary,
              "data_problems": data.problems.as_list(), "split": f"people, train share {data.options['train_share']}"}
    run = runs.RunWriter(out, config, force=force, monitor="loss")
    tf.keras.utils.set_random_seed(seed)
    embedding = models.build(name, data.input_shape, spec.classes)
    trainee = _trainee(embedding, loss, len(data.train_people))
    steps = int(np.ceil((len(data.y_train) * (2 if loss == CONTRASTIVE else 1)) / batch_size))
    schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, max(1, steps * epochs))
    trainee.compile(tf.keras.optimizers.Adam(schedule),
                    am_softmax_loss() if loss == AM_SOFTMAX else pairs.contrastive_loss())
    augmenter = augment.Augmenter(data.normalization, seed=seed, **augmentation) if augmentation else None
    train_data = _training_data(data, loss, batch_size, augmenter, seed)
    started = time.time()
    trainee.fit(train_data, epochs=epochs, verbose=0,
                callbacks=[EpochProgress(epochs, f"[{name}, {loss}] epochs"), *run.callbacks()])
    train_seconds = time.time() - started
    run.save_model(embedding)
    run.training_done(f"{name} ({loss}): {data.description}")
    result = score_run(embedding, data, loss)
    verification.det_plot(result["curves"], run.out / DET_FILE, f"{name} ({loss}), unseen people")
    verification.save_curves(result["curves"], run.out / SCORES_FILE)
    return run.finish({"model": name, "data": data.source, "synthetic": data.synthetic,
                       "data_description": data.description, "loss": loss, **public(result),
                       "train_windows": int(len(data.y_train)), "train_people": len(data.train_people),
                       "epochs": epochs, "train_seconds": round(train_seconds, 2), "resumed": run.resuming,
                       **models.count_params(embedding)})
