"""The input contract of an exported model: what a phone feeds it and what comes out.

A trained run standardizes its windows with statistics that live in its ``config.json``. On export they
become a layer of the model (``Normalize``, folded into the graph before the first convolution), so the
flatbuffer takes the **raw** window in the units the loader produces; the phone only resamples and cuts.
``describe`` writes the rest of the contract, the export report's ``input`` object: the tensor's shape and
layout, the channels in order with their units, the sample rate and window length, ``normalization: "in
model"``, and the labels in output order (for an embedding network: its size and the distance threshold).
The same object is embedded in the flatbuffer as metadata named ``METADATA_NAME`` (``embed`` / ``read``).
"""
from __future__ import annotations

import json

import numpy as np
import tensorflow as tf

from gaitbnn import flatbuffer as tflite_file
from gaitbnn import models
from gaitbnn.data import spectrogram
from gaitbnn.training import pairs

METADATA_NAME = "gaitbnn_input_contract"
GAIT_CHANNELS = {"acc_x": "accelerometer_x", "acc_y": "accelerometer_y", "acc_z": "accelerometer_z",
                 "gyro_x": "gyroscope_x", "gyro_y": "gyroscope_y", "gyro_z": "gyroscope_z"}


@tf.keras.utils.register_keras_serializable(package="gaitbnn")
class Normalize(tf.keras.layers.Layer):
    """``(x - offset) * scale`` per channel along ``axis``, then clipped to [0, 1] when ``clip`` (a run's stored
    normalization, as a layer; no trainable weights).

    It computes ``(x + (-offset)) * scale``: the same floats bit for bit (IEEE subtraction is the addition of the
    negation), but TFLite's broadcasting ``ADD`` has a NEON path where its ``SUB`` has none: on the aarch64
    runtime a gait window's normalization costs about 5.7k guest instructions instead of 22.4k (issue 27).
    """

    def __init__(self, offset, scale, axis: int = -1, clip: bool = False, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.offset, self.scale = [float(v) for v in np.ravel(offset)], [float(v) for v in np.ravel(scale)]
        self.axis, self.clip = int(axis), bool(clip)

    def _shaped(self, values, rank):
        shape = [1] * rank
        if len(values) > 1:
            shape[self.axis] = len(values)
        return tf.constant(np.reshape(values, shape), tf.float32)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        rank = len(inputs.shape)
        x = (inputs + self._shaped([-v for v in self.offset], rank)) * self._shaped(self.scale, rank)
        return tf.clip_by_value(x, 0.0, 1.0) if self.clip else x

    def get_config(self) -> dict:
        return {**super().get_config(), "offset": self.offset, "scale": self.scale, "axis": self.axis,
                "clip": self.clip}


def normalizer(config: dict | None) -> Normalize | None:
    """The ``Normalize`` layer of a run's stored normalization (None: the model takes its input as it is)."""
    norm = (config or {}).get("normalization") or {}
    if "mean" in norm:  # gait: per channel, the rows of (channels, T, 1)
        return Normalize(norm["mean"], 1 / np.asarray(norm["std"]), axis=1, name="normalize")
    if "low" in norm:  # activity: per channel (last axis), mapped onto [0, 1] and clipped
        low, high = np.asarray(norm["low"]), np.asarray(norm["high"])
        return Normalize(low, 1 / (high - low), axis=-1, clip=True, name="normalize")
    if "image_mean" in norm:  # spectrograms: one mean and deviation
        return Normalize([norm["image_mean"]], [1 / norm["image_std"]], name="normalize")
    return None


def raw_input_model(model: tf.keras.Model, config: dict | None) -> tf.keras.Model:
    """``model`` behind its run's normalization: it takes raw windows (the model itself if there is none)."""
    layer = normalizer(config)
    if layer is None:
        return model
    inputs = tf.keras.Input(shape=model.input_shape[1:], name="raw_window")
    return tf.keras.Model(inputs, model(layer(inputs)), name=f"{model.name}_raw_input")


def to_raw(x: np.ndarray, config: dict | None) -> np.ndarray:
    """Normalized model inputs ``x`` back in the loader's units (the inverse of ``normalizer``)."""
    layer = normalizer(config)
    if layer is None:
        return x
    shape = [1] * x.ndim
    if len(layer.offset) > 1:
        shape[layer.axis] = len(layer.offset)
    return (x / np.reshape(layer.scale, shape) + np.reshape(layer.offset, shape)).astype(np.float32)


def _gait(config, shape):
    norm = config.get("normalization") or {}
    seconds, samples = norm.get("window_seconds", 2.0), norm.get("samples", shape[1])
    rate = samples / seconds
    synthetic = config.get("synthetic", False)
    return {
        "channels": [GAIT_CHANNELS.get(c, c) for c in config.get("channel_names") or GAIT_CHANNELS],
        "units": "synthetic units (the synthetic generator's)" if synthetic else
                 {"accelerometer": "m/s^2", "gyroscope": "rad/s (Android SensorEvent values, as the IDNet logs)"},
        "sample_rate_hz": rate,
        "window_seconds": seconds,
        "layout": (f"input[0, c, t, 0] = channel c (in 'channels' order) at sample t, t = 0..{samples - 1}, "
                   f"1/{rate:g} s apart: {seconds:g} s of walking resampled linearly to {rate:g} Hz, oldest first"),
    }


def _activity(config, shape):
    options = config.get("data_options") or {}
    rate = ((config.get("data_summary") or {}).get("sample_rate_hz") or {}).get("median")
    steps = shape[0]
    return {
        "channels": list(config.get("channel_names") or [f"channel_{i}" for i in range(shape[1])]),
        "units": "as in the LARa recordings (or the .npz the model was trained on)",
        "sample_rate_hz": rate,
        "window_seconds": steps / rate if rate else None,
        "layout": (f"input[0, t, c] = channel c (in 'channels' order) at time step t, t = 0..{steps - 1} (oldest "
                   f"first), consecutive samples of the recording; windows cut every {options.get('stride') or '-'} "
                   "steps in training"),
    }


def _gei(config, shape):
    return {"channels": ["gait_energy_image"], "units": "grey level in [0, 1] (pixel / 255)", "sample_rate_hz": None,
            "window_seconds": None,
            "layout": (f"input[0, y, x, 0] = the gait energy image (mean of the sequence's aligned binary "
                       f"silhouettes), {shape[0]} x {shape[1]} pixels, row 0 at the top")}


def _auth(config, shape):
    return {"channels": ["accelerometer_x", "accelerometer_y", "accelerometer_z"],
            "units": "log(1 + power) of the accelerometer's short-time Fourier transform",
            "sample_rate_hz": spectrogram.RATE_HZ, "window_seconds": spectrogram.SEGMENT_SECONDS,
            "layout": (f"input[0, f, k, 0]: a ({shape[0]}, {shape[1]}) spectrogram image, the x, y and z axes' "
                       f"{shape[0] // 3} frequency bins stacked vertically (x on top), {shape[1]} frames "
                       f"(data.spectrogram: Hann window {spectrogram.NPERSEG}, hop {spectrogram.HOP} at "
                       f"{spectrogram.RATE_HZ:g} Hz)")}


def _verification(config, shape):
    """A verification run's windows: the gait layout, or MM'19's spectrograms of the same 2 s windows."""
    options = config.get("data_options") or {}
    if options.get("representation") != "spectrogram":
        return _gait(config, shape)
    seconds = options.get("window_seconds", 2.0)
    return {**_auth(config, shape), "window_seconds": seconds,
            "layout": (f"input[0, f, k, 0]: a ({shape[0]}, {shape[1]}) spectrogram of {seconds:g} s of the "
                       f"accelerometer at 50 Hz, the x, y and z axes' {shape[0] // 3} frequency bins stacked "
                       f"vertically (x on top), {shape[1]} frames (data.verification: Hann window 32, hop 4)")}


LAYOUTS = {"gait": _gait, "activity": _activity, "gei": _gei, "auth": _auth, "verification": _verification}


def describe(name: str, model: tf.keras.Model, config: dict | None) -> dict:
    """The export report's ``input`` object of registered model ``name`` built as ``model`` (``config``: its
    run's, None for fresh weights)."""
    spec = models.get_spec(name)
    config = config or {}
    shape = tuple(int(v) for v in model.input_shape[1:])
    family = config.get("family", spec.family)  # a verification run of a siamese network reads 2 s windows
    contract = {"shape": [1, *shape], "dtype": "float32", **LAYOUTS[family](config, shape)}
    if normalizer(config) is not None:
        contract["normalization"] = "in model"
        contract["normalization_folded"] = config["normalization"]
    else:
        contract["normalization"] = ("none: the model takes its input as it is" if config else
                                     "none: a fresh model with no training statistics (export a trained run)")
    if family == "verification":
        cosine = config.get("metric") == "cosine"
        contract["labels"] = {"embedding_size": int(model.output_shape[-1]), "metric": config.get("metric"),
                              "rule": ("enrol: keep the enrolment windows' embeddings; verify: the mean "
                                       + ("cosine distance (1 - cos)" if cosine else "Euclidean distance")
                                       + " of a probe's windows to them, accepted below a threshold chosen on "
                                       "enrolment data (the run's metrics.json gives the EER threshold)")}
    elif spec.head == "embedding":
        contract["labels"] = {"embedding_size": int(model.output_shape[-1]),
                              "distance_threshold": pairs.MARGIN / 2,
                              "rule": "same person when the Euclidean distance of two embeddings is below the "
                                      "threshold (contrastive margin / 2)"}
    elif spec.head == "attributes":
        contract["labels"] = {"attributes": config.get("attribute_names"), "classes": config.get("class_names"),
                              "rule": "sigmoid per attribute; the class is that of the nearest row of "
                                      "attribute_table (config.json)"}
    else:
        contract["labels"] = config.get("class_names") or [f"class_{i}" for i in range(spec.classes)]
    contract["output"] = {"embedding": "the embedding vector", "attributes": "sigmoid per attribute",
                          "softmax": "softmax probabilities, one per label, in 'labels' order"}[spec.head]
    return contract


def embed(flatbuffer: bytes, contract: dict) -> bytes:
    """``flatbuffer`` with ``contract`` as JSON in a metadata entry named ``METADATA_NAME``."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    graph = tflite_file.graph_of(flatbuffer)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(contract, separators=(",", ":")).encode(), dtype=np.uint8)
    graph.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(graph.buffers) - 1
    graph.metadata = [*(graph.metadata or []), entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(graph))


def read(flatbuffer: bytes) -> dict | None:
    """The contract embedded in ``flatbuffer`` (None if it has none)."""
    graph = tflite_file.graph_of(flatbuffer)
    for entry in graph.metadata or []:
        name = entry.name.decode() if isinstance(entry.name, bytes) else entry.name
        if name == METADATA_NAME:
            return json.loads(bytes(graph.buffers[entry.buffer].data).decode())
    return None
