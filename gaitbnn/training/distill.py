"""Knowledge distillation from a trained float teacher (the ``best`` recipe, ``models.recipes``).

Hinton et al. (2015), as larq-zoo trains its binary networks (Real-to-Binary, Martinez et al., ICLR 2020, use
the same output term): the student minimizes

    alpha * CE(label, student) + (1 - alpha) * T^2 * KL(softmax(teacher / T) || softmax(student / T))

on its logits (the input of its final softmax). The teacher sees the same (augmented) window at its own
resolution: the student's window resampled along time (bilinear) to the teacher's input width. Targets travel
as one tensor per window: the label, then the teacher's logits (``DistillationLoss`` unpacks them), so Keras'
``fit``, checkpoints and callbacks work unchanged; the metric ``accuracy`` reads the label alone.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

ALPHA = 0.5
TEMPERATURE = 4.0


def logits_model(model: tf.keras.Model) -> tf.keras.Model:
    """``model`` without its final softmax (same layers and weights): its logits."""
    last = model.layers[-1]
    if not (isinstance(last, tf.keras.layers.Activation) and last.get_config()["activation"] == "softmax"):
        raise ValueError(f"{model.name} does not end with a softmax layer; distillation needs its logits")
    return tf.keras.Model(model.inputs, last.input, name=f"{model.name}_logits")


def resized(x: tf.Tensor, input_shape: tuple) -> tf.Tensor:
    """Windows ``x`` (B, channels, T, 1) resampled along time to ``input_shape`` (channels, T', 1)."""
    if tuple(x.shape[1:]) == tuple(input_shape):
        return x
    return tf.image.resize(x, input_shape[:2], method="bilinear")


def targets(teacher: tf.keras.Model, x: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """(B, 1 + classes): each window's label, then ``teacher``'s logits on it."""
    logits = teacher(resized(x, tuple(teacher.input_shape[1:])), training=False)
    return tf.concat([tf.cast(tf.reshape(labels, (-1, 1)), logits.dtype), logits], axis=1)


def numpy_targets(teacher: tf.keras.Model, x: np.ndarray, labels: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``targets`` for a whole array (the validation windows)."""
    parts = [targets(teacher, tf.constant(x[i:i + batch_size]), tf.constant(labels[i:i + batch_size])).numpy()
             for i in range(0, len(x), batch_size)]
    return np.concatenate(parts)


@tf.keras.utils.register_keras_serializable(package="gaitbnn")
class DistillationLoss(tf.keras.losses.Loss):
    """The distillation objective on student logits; ``y_true`` is ``targets``' (label, teacher logits)."""

    def __init__(self, alpha: float = ALPHA, temperature: float = TEMPERATURE, name: str = "distillation", **kwargs):
        super().__init__(name=name, **kwargs)
        self.alpha, self.temperature = float(alpha), float(temperature)

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        labels, teacher = tf.cast(y_true[:, 0], tf.int32), y_true[:, 1:]
        hard = tf.keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
        soft_teacher = tf.nn.softmax(teacher / self.temperature)
        log_student = tf.nn.log_softmax(y_pred / self.temperature)
        log_teacher = tf.nn.log_softmax(teacher / self.temperature)
        soft = tf.reduce_sum(soft_teacher * (log_teacher - log_student), axis=1)
        return self.alpha * hard + (1 - self.alpha) * self.temperature ** 2 * soft

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha, "temperature": self.temperature}


class LabelAccuracy(tf.keras.metrics.SparseCategoricalAccuracy):
    """Accuracy of the student's logits against the label in ``targets``' first column."""

    def __init__(self, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true: tf.Tensor, y_pred: tf.Tensor, sample_weight: tf.Tensor | None = None) -> None:
        return super().update_state(y_true[:, :1], y_pred, sample_weight)
