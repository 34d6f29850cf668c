"""IDNet (Gadaleta & Rossi, Pattern Recognition 2018) as BiPedalNet's Table 2 compares it.

No official IDNet code is public. The reconstruction keeps what the IDNet paper
and public re-implementations describe: a walking cycle normalized to 200
samples, the 6 inertial channels (accelerometer and gyroscope x, y, z) as the
rows of a one-plane image, a first convolution of 20 kernels of 1x10 along time
per channel, a second of 40 kernels of 4x10 that mixes 4 neighbouring channels,
1x2 max-pooling after each, one dense feature layer, and a softmax.

Layer list at the default input (6, 200, 1) and 38 classes (float IDNet):

=============  ==============  ==============  =========
layer          kernel          output          params
=============  ==============  ==============  =========
conv1          20 @ 1x10       (6, 191, 20)    220
pool1          1x2             (6, 95, 20)     0
conv2          40 @ 4x10       (3, 86, 40)     32,040
pool2          1x2             (3, 43, 40)     0
dense1         58 (5,160 in)   58              299,338
dense2         38              38              2,242
=============  ==============  ==============  =========
total                                          333,840

The width of the dense feature layer is not in the sources we could read; 58
units put the total at 333,840, 0.3% under Table 2's 335k (1.27 MiB at 32 bits,
Table 2: 1.28 MB).

``binarized IDNet`` is the off-the-shelf binarization Table 2 reports: the same
layers with binary weights, sign activations after the first layer, and
BatchNorm (3 parameters per channel) in place of the biases, as usual for BNNs.
Its 342,000 binary weights take 0.04 MiB (Table 2: 0.04 MB).
"""
from __future__ import annotations

import larq as lq
import tensorflow as tf

from gaitbnn.models.blocks import BINARY, BINARY_WEIGHTS, FLOAT, batch_norm, dense_as_conv

INPUT_SHAPE = (6, 200, 1)
CLASSES = 38
DENSE_UNITS = 58


def _idnet(input_shape, classes, binary, name):
    first = BINARY_WEIGHTS if binary else FLOAT
    rest = BINARY if binary else FLOAT

    def activation(x, stage):
        # Float IDNet: ReLU. Binarized: BatchNorm here, the sign is the next layer's input quantizer.
        return batch_norm(f"bn{stage}")(x) if binary else tf.keras.layers.ReLU(name=f"relu{stage}")(x)

    inputs = tf.keras.Input(shape=input_shape, name="signal")
    x = lq.layers.QuantConv2D(20, (1, 10), name="conv1", **first)(inputs)
    x = tf.keras.layers.MaxPooling2D((1, 2), name="pool1")(x)
    x = activation(x, 1)
    x = lq.layers.QuantConv2D(40, (4, 10), name="conv2", **rest)(x)
    x = tf.keras.layers.MaxPooling2D((1, 2), name="pool2")(x)
    x = activation(x, 2)
    x = dense_as_conv(x, DENSE_UNITS, rest, name="dense1")
    x = activation(x, 3)
    x = dense_as_conv(x, classes, rest, name="dense2")
    x = tf.keras.layers.Flatten(name="flatten")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name=name)


def idnet(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """Float IDNet (Table 2 row 1: 335k parameters, 1.28 MB)."""
    return _idnet(input_shape, classes, binary=False, name="idnet")


def idnet_binary(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """Binarized IDNet (Table 2 row 2: 335k parameters, 0.04 MB)."""
    return _idnet(input_shape, classes, binary=True, name="idnet_binary")
