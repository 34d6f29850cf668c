"""Augmentation of gait windows for a phone in a pocket (the ``best`` recipe, ``models.recipes``).

A window reaches a model standardized per channel (``Dataset.normalization``). Each augmentation works on
the window in the sensor's own units (standardization undone, then redone), so that what it changes is
physical:

* ``rotation``: the phone turns in the pocket. One random rotation (axis uniform on the sphere, angle uniform
  in +-``rotation`` radians) turns the accelerometer's and the gyroscope's x, y, z alike; it keeps each
  sensor's vector norm at every sample.
* ``shift``: the window starts up to ``shift`` of its length earlier or later (the edge sample repeated).
* ``scale``: the signal's amplitude is multiplied by one factor uniform in 1 +- ``scale``.

``augmented(x, y, ...)`` is a shuffled, batched ``tf.data`` pipeline that draws new augmentations every epoch
from a seeded ``tf.random.Generator``.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

SENSORS = ((0, 3), (3, 6))  # accelerometer x, y, z and gyroscope x, y, z: the rows a rotation turns together


def rotation_matrices(axes: tf.Tensor, angles: tf.Tensor) -> tf.Tensor:
    """(B, 3, 3) rotations about unit ``axes`` (B, 3) by ``angles`` (B,) radians (Rodrigues' formula)."""
    x, y, z = tf.unstack(axes, axis=1)
    zero = tf.zeros_like(x)
    k = tf.reshape(tf.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=1), (-1, 3, 3))
    sin, cos = tf.sin(angles)[:, None, None], tf.cos(angles)[:, None, None]
    return tf.eye(3, batch_shape=tf.shape(axes)[:1]) + sin * k + (1 - cos) * tf.matmul(k, k)


def rotate(raw: tf.Tensor, matrices: tf.Tensor) -> tf.Tensor:
    """Windows ``raw`` (B, 6, T) in sensor units with both sensors' x, y, z turned by ``matrices`` (B, 3, 3)."""
    parts = [tf.matmul(matrices, raw[:, start:stop]) for start, stop in SENSORS]
    return tf.concat(parts, axis=1)


def shift(raw: tf.Tensor, offsets: tf.Tensor) -> tf.Tensor:
    """Windows ``raw`` (B, C, T) started ``offsets`` (B,) samples later (earlier if negative), edges repeated."""
    length = tf.shape(raw)[2]
    index = tf.clip_by_value(tf.range(length)[None, :] + offsets[:, None], 0, length - 1)
    return tf.gather(raw, index, axis=2, batch_dims=1)


class Augmenter:
    """The augmentation of one training run: ``mean``/``std`` of its standardization and the three amounts."""

    def __init__(self, normalization: dict, rotation: float = 0.0, shift: float = 0.0, scale: float = 0.0,
                 seed: int = 0):
        self.mean = tf.constant(np.reshape(normalization["mean"], (1, -1, 1)), tf.float32)
        self.std = tf.constant(np.reshape(normalization["std"], (1, -1, 1)), tf.float32)
        self.rotation, self.shift, self.scale = float(rotation), float(shift), float(scale)
        self.generator = tf.random.Generator.from_seed(seed)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        """Augmented standardized windows ``x`` (B, 6, T, 1)."""
        raw = x[..., 0] * self.std + self.mean
        batch, length = tf.shape(raw)[0], tf.shape(raw)[2]
        if self.rotation:
            axes = tf.math.l2_normalize(self.generator.normal((batch, 3)), axis=1)
            angles = self.generator.uniform((batch,), -self.rotation, self.rotation)
            raw = rotate(raw, rotation_matrices(axes, angles))
        if self.shift:
            most = tf.cast(tf.round(self.shift * tf.cast(length, tf.float32)), tf.int32)
            raw = shift(raw, self.generator.uniform((batch,), -most, most + 1, dtype=tf.int32))
        if self.scale:
            raw = raw * self.generator.uniform((batch, 1, 1), 1 - self.scale, 1 + self.scale)
        return ((raw - self.mean) / self.std)[..., None]


def augmented(x: np.ndarray, targets: np.ndarray, batch_size: int, augmenter: Augmenter | None,
              seed: int) -> tf.data.Dataset:
    """Training batches of (``x``, ``targets``), reshuffled and, with ``augmenter``, re-augmented every epoch."""
    data = tf.data.Dataset.from_tensor_slices((x, targets)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if augmenter is not None:
        data = data.map(lambda xs, ys: (augmenter(xs), ys))
    return data.prefetch(tf.data.AUTOTUNE)
