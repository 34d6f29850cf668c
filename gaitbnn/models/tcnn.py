"""tCNN (Niemann et al., LARa, Sensors 2020) and BtCNN, its progressive binarization (BtCNN thesis).

tCNN (thesis Sec. 4.1, Fig. 4.1.2): the input window of T steps x D sensor
channels is an image with one plane; four convolutions of 64 filters of 5x1
slide along time, each sensor channel convolved separately (the kernel spans
one channel), with no pooling and no normalization; then two fully connected
layers of 128 units with dropout, and a head: softmax over the 8 activity
classes, or sigmoid over the 19 attributes (decoded to a class by the nearest
attribute vector, thesis Sec. 4.2). ReLU activations, valid padding.

BtCNN Conv[1-j] (thesis Sec. 5.3.2, Algorithm 1): the first j convolutions are
binarized, sign weights and sign activations (straight-through estimator
cancelled where |x| > 1, latent weights clipped to [-1, 1]), each followed by
BatchNorm in place of its bias. The first binary layer's input: the sign of a
window normalized to [0, 1] is constant, so a binarized conv1 reads the window
through a 32-level thermometer code (``blocks.Thermometer``): a binary input
that keeps the amplitude at 33 steps, 32 channels that fill LCE's 32-bit words.
After the last binary convolution, BatchNorm then ReLU feed the float layers.
The fully connected layers stay float, as in the thesis.

``btcnn-binary`` (this project's, the thesis' future work): all four convolutions
and both fully connected layers binary, the fully connected layers as whole-map
binary convolutions (``blocks.dense_as_conv``, like BiPedalNet's), each followed
by BatchNorm; no dropout (a dropped value would reach the next sign as +1). The
output layer stays small and real-valued: a 1x1 float convolution from the 128
BatchNorm outputs to the classes (or attributes). Six ``LceBconv2d`` ops; at the
mbientlab default (100 x 30) its flatbuffer is about 2.6 MB against the float
tCNN's 79 MiB, 99% of it fc1's 20.6M one-bit weights.

Gaussian noise (sigma 0.01) is added to the inputs in training only (thesis
Sec. 5.3.1, simulating sensor inaccuracy); it is the identity at inference and
is absent from the flatbuffer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import larq as lq
import tensorflow as tf

from gaitbnn.models.blocks import BINARY, FLOAT, Thermometer, batch_norm, dense_as_conv

if TYPE_CHECKING:
    from collections.abc import Callable

INPUT_SHAPE = (100, 30)  # LARa mbientlab: 100 steps (1 s at 100 Hz) x 30 channels (5 IMUs x acc + gyro)
CLASSES = 8
ATTRIBUTES = 19
FILTERS = 64
KERNEL = (5, 1)
UNITS = 128
DROPOUT = 0.5
NOISE_STDDEV = 0.01
THERMOMETER_LEVELS = 32
HEADS = {"softmax": "softmax", "attributes": "sigmoid"}


def tcnn(input_shape: tuple = INPUT_SHAPE, outputs: int = CLASSES, binary_layers: int = 0, head: str = "softmax",
         name: str = "tcnn", binary_dense: bool = False) -> tf.keras.Model:
    """tCNN with its first ``binary_layers`` (0-4) convolutions binarized; ``outputs`` classes or attributes;
    ``binary_dense`` (with 4 binary convolutions): fc1 and fc2 binary too (``btcnn-binary``)."""
    if binary_dense and binary_layers != 4:
        raise ValueError("binary fully connected layers need all four convolutions binary")
    steps, channels = (int(v) for v in input_shape)
    inputs = tf.keras.Input(shape=(steps, channels), name="window")
    x = tf.keras.layers.GaussianNoise(NOISE_STDDEV, name="sensor_noise")(inputs)
    x = tf.keras.layers.Reshape((steps, channels, 1), name="channels_as_columns")(x)
    if binary_layers:
        x = Thermometer(THERMOMETER_LEVELS, name="thermometer")(x)
    for i in range(1, 5):
        binary = i <= binary_layers
        x = lq.layers.QuantConv2D(FILTERS, KERNEL, padding="valid", name=f"conv{i}", **(BINARY if binary else FLOAT))(x)
        if binary:
            x = batch_norm(f"bn{i}")(x)
        if not (binary and (i < binary_layers or binary_dense)):  # the next binary layer signs its input itself
            x = tf.keras.layers.ReLU(name=f"relu{i}")(x)
    if binary_dense:
        for i in (1, 2):
            x = dense_as_conv(x, UNITS, BINARY, name=f"fc{i}")
            x = batch_norm(f"fc{i}_bn")(x)
        x = lq.layers.QuantConv2D(int(outputs), (1, 1), name="fc3", **FLOAT)(x)
        x = tf.keras.layers.Flatten(name="flatten")(x)
        out = tf.keras.layers.Activation(HEADS[head], name=HEADS[head])(x)
        return tf.keras.Model(inputs, out, name=name)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = lq.layers.QuantDense(UNITS, activation="relu", name=f"fc{i}")(x)
        x = tf.keras.layers.Dropout(DROPOUT, name=f"dropout{i}")(x)
    x = lq.layers.QuantDense(int(outputs), name="fc3")(x)
    out = tf.keras.layers.Activation(HEADS[head], name=HEADS[head])(x)
    return tf.keras.Model(inputs, out, name=name)


def constructor(binary_layers: int, head: str, binary_dense: bool = False) -> Callable:
    """The registry's constructor of one configuration: (*, input_shape, classes) -> model; ``classes`` is the
    number of outputs (classes, or attributes for the attribute head)."""
    suffix = "" if head == "softmax" else "_attr"
    depth = f"_{binary_layers}" if binary_layers > 1 else ""
    name = ("btcnn_binary" if binary_dense else "tcnn" if not binary_layers else "btcnn_conv1" + depth) + suffix

    def build(*, input_shape=INPUT_SHAPE, classes=None):
        return tcnn(input_shape, classes or (CLASSES if head == "softmax" else ATTRIBUTES), binary_layers, head, name,
                    binary_dense)

    build.__doc__ = (f"tCNN, {head} head, convolutions 1..{binary_layers} binarized (Conv[1-{binary_layers}])"
                     + (" and both fully connected layers binary." if binary_dense else "."))
    return build
