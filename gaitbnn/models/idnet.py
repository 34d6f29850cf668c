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

Two binarized IDNets:

* ``idnet-offtheshelf``, Table 2 row 2 ("off-the-shelf binarization of full-precision
  networks", Sec. 3): every IDNet layer replaced by its Larq binary counterpart with
  Larq's usual defaults (``ste_sign`` inputs and kernels, ``weight_clip``), biases,
  ReLU and pooling left where IDNet has them. Its parameter count is IDNet's, as
  Table 2 lists (335k both). It collapses: a ReLU output is never negative, so the
  sign that the next layer takes of it is +1 everywhere (larq's sign of 0 is +1), and
  from the second layer on every window looks the same.
* ``idnet-binary``, our extra row: the same layers binarized the way BNNs are built
  (BiPedalNet's own recipe): the first layer's input stays real, BatchNorm (3
  parameters per channel) replaces bias and ReLU, so each sign falls at the batch's
  centre and keeps information. Its 342,000 binary weights take 0.04 MiB.

The dense layers are written as whole-map convolutions (``blocks.dense_as_conv``),
the same arithmetic as ``QuantDense`` on the flattened map, so they convert to
``LceBconv2d``.
"""
from __future__ import annotations

import larq as lq
import tensorflow as tf

from gaitbnn.models.blocks import BINARY, BINARY_WEIGHTS, FLOAT, OFF_THE_SHELF, batch_norm, dense_as_conv

INPUT_SHAPE = (6, 200, 1)
CLASSES = 38
DENSE_UNITS = 58
EMBEDDING = 64  # idnet-embedding's output size, bipedalnet-embedding's (issue 28)


def _idnet(input_shape, classes, binary, name, first=None, rest=None, embedding=False):
    """IDNet's layers; ``binary``: BatchNorm instead of ReLU; ``first``/``rest``: the layers' quantization;
    ``embedding``: a linear embedding of ``classes`` values instead of the softmax layer."""
    first = first or (BINARY_WEIGHTS if binary else FLOAT)
    rest = rest or (BINARY if binary else FLOAT)

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
    if embedding:
        x = dense_as_conv(x, classes, FLOAT, name="embedding")  # linear: the embedding, compared by distance
        return tf.keras.Model(inputs, tf.keras.layers.Flatten(name="flatten")(x), name=name)
    x = dense_as_conv(x, classes, rest, name="dense2")
    x = tf.keras.layers.Flatten(name="flatten")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name=name)


def idnet(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """Float IDNet (Table 2 row 1: 335k parameters, 1.28 MB)."""
    return _idnet(input_shape, classes, binary=False, name="idnet")


def idnet_offtheshelf(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """Off-the-shelf binarized IDNet (Table 2 row 2: 335k parameters, 0.04 MB): IDNet with Larq's defaults."""
    return _idnet(input_shape, classes, binary=False, name="idnet_offtheshelf", first=OFF_THE_SHELF,
                  rest=OFF_THE_SHELF)


def idnet_binary(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """IDNet binarized as BNNs are built (extra row): real first-layer input, BatchNorm before every sign."""
    return _idnet(input_shape, classes, binary=True, name="idnet_binary")


def idnet_embedding(*, input_shape: tuple = INPUT_SHAPE, classes: int = EMBEDDING) -> tf.keras.Model:
    """Float IDNet's body (conv1, conv2, dense1 58 with ReLU) with the softmax layer replaced by a linear
    embedding of ``classes`` (64) values: the float baseline of open-set verification (issue 28)."""
    return _idnet(input_shape, classes, binary=False, name="idnet_embedding", embedding=True)
