"""A TFLite model that trains on the phone (MM'19: "training on mobile"), via TensorFlow's on-device training.

``export(embedding, ...)`` wraps a float embedding network in a ``tf.Module``
with four signatures, saves it as a SavedModel and converts it with TFLite's
builtin and select TF ops and resource variables:

* ``train(first, second, label)`` -> ``loss``: one step of plain SGD on the
  contrastive loss (Eq. 1, margin 1.5) over a batch of pairs (label 1 similar,
  0 dissimilar); the paper's phones train on batches of 20 pairs;
* ``infer(x)`` -> ``embedding``: the embedding of spectrogram images;
* ``save(checkpoint_path)`` / ``restore(checkpoint_path)``: write and read the
  weights as a TF checkpoint file on the phone's storage.

A phone app calls them through ``Interpreter.runSignature``. The weights start
as the Keras model's; a binary (Larq) network has no on-device training here,
since its sign and clip ops need the straight-through estimator.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from gaitbnn import contract, runs
from gaitbnn.errors import InputError
from gaitbnn.training.pairs import MARGIN, contrastive_loss

SIGNATURES = ("train", "infer", "save", "restore")


class TrainableEmbedding(tf.Module):
    def __init__(self, embedding, learning_rate=0.01, margin=MARGIN):
        super().__init__()
        self.model = embedding
        self.learning_rate = learning_rate
        self.loss = contrastive_loss(margin)
        shape = [None, *embedding.input_shape[1:]]
        spec = tf.TensorSpec(shape, tf.float32)
        self.train = tf.function(self._train, input_signature=[spec, spec, tf.TensorSpec([None], tf.float32)])
        self.infer = tf.function(self._infer, input_signature=[spec])
        path = tf.TensorSpec([], tf.string)
        self.save = tf.function(self._save, input_signature=[path])
        self.restore = tf.function(self._restore, input_signature=[path])

    def _weights(self):
        return self.model.trainable_variables

    def _train(self, first, second, label):
        with tf.GradientTape() as tape:
            a, b = self.model(first, training=True), self.model(second, training=True)
            distance = tf.sqrt(tf.reduce_sum(tf.square(a - b), axis=-1) + 1e-12)
            loss = self.loss(label, distance)
        for variable, gradient in zip(self._weights(), tape.gradient(loss, self._weights())):
            variable.assign_sub(self.learning_rate * gradient)
        return {"loss": loss}

    def _infer(self, x):
        return {"embedding": self.model(x, training=False)}

    def _names(self):
        return [f"w{i}" for i in range(len(self._weights()))]

    def _save(self, checkpoint_path):
        tf.raw_ops.Save(filename=checkpoint_path, tensor_names=self._names(),
                        data=[v.read_value() for v in self._weights()], name="save")
        return {"checkpoint_path": checkpoint_path}

    def _restore(self, checkpoint_path):
        restored = {}
        for name, variable in zip(self._names(), self._weights()):
            value = tf.raw_ops.Restore(file_pattern=checkpoint_path, tensor_name=name, dt=variable.dtype)
            variable.assign(tf.reshape(value, variable.shape))
            restored[name] = value
        return restored


def refuse_binary(embedding: tf.keras.Model) -> None:
    """An InputError if ``embedding`` has binary (Larq-quantized) layers: on-device training is for float ones."""
    quantized = [layer.name for layer in embedding.layers
                 if getattr(layer, "kernel_quantizer", None) is not None or getattr(layer, "input_quantizer", None)]
    if quantized:
        raise InputError(f"{embedding.name} has binary layers ({', '.join(quantized[:3])}): on-device training "
                         "exports float embedding networks (lenet4, vgg8, mobilenetv2)")


def convert(embedding: tf.keras.Model, learning_rate: float = 0.01) -> bytes:
    """The trainable flatbuffer (bytes) of a float embedding network."""
    refuse_binary(embedding)
    module = TrainableEmbedding(embedding, learning_rate)
    with tempfile.TemporaryDirectory() as saved:
        tf.saved_model.save(module, saved, signatures={name: getattr(module, name).get_concrete_function()
                                                      for name in SIGNATURES})
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
        converter.experimental_enable_resource_variables = True
        return converter.convert()


def check(flatbuffer: bytes, embedding: tf.keras.Model, x: np.ndarray, steps: int = 5, seed: int = 0) -> None:
    """Run the flatbuffer: infer vs Keras, then ``steps`` train steps on fixed pairs of ``x`` (loss trace)."""
    interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    infer, train = interpreter.get_signature_runner("infer"), interpreter.get_signature_runner("train")
    keras = embedding.predict(x, verbose=0)
    lite = infer(x=x)["embedding"]
    rng = np.random.default_rng(seed)
    first, second = x[rng.integers(len(x), size=20)], x[rng.integers(len(x), size=20)]
    label = (np.arange(20) % 2).astype(np.float32)
    losses = [float(train(first=first, second=second, label=label)["loss"]) for _ in range(steps)]
    return {"infer_max_abs_diff": float(np.max(np.abs(keras - lite))), "train_losses": losses,
            "signatures": sorted(interpreter.get_signature_list())}


def export(embedding: tf.keras.Model, name: str, out_dir: str | Path, x: np.ndarray,
           learning_rate: float = 0.01, config: dict | None = None) -> dict:
    """Write ``out_dir/NAME_train.tflite`` and its report ``NAME_train.json``; nothing on failure.

    ``config``: the run's; its normalization is folded in, so every signature takes raw spectrograms.
    """
    refuse_binary(embedding)
    raw_model, x_raw = contract.raw_input_model(embedding, config), contract.to_raw(x, config)
    flatbuffer = convert(raw_model, learning_rate)
    result = {"model": name, "target": "train", "size_bytes": len(flatbuffer), "learning_rate": learning_rate,
              "input": contract.describe(name, embedding, config), **check(flatbuffer, raw_model, x_raw)}
    if result["infer_max_abs_diff"] > 1e-3:
        raise InputError(f"{name}: the trainable flatbuffer's embeddings differ from Keras by "
                         f"{result['infer_max_abs_diff']:.2e}: not written")
    out_dir = runs.writable_dir(out_dir)
    runs.write_bytes(Path(out_dir) / f"{name}_train.tflite", flatbuffer)
    runs.write_json(Path(out_dir) / f"{name}_train.json", result)
    return result
