"""BiPedalNet (Wu, Datta & Prabhu): a binarized CNN for gait identification.

Table 1, layer by layer (1-bit weights / 32-bit parameters):

=====================  ========  ======  =========  ======
layer                  units     filter  1-bit      32-bit
=====================  ========  ======  =========  ======
Conv2D                 32        (3,3)   288        0
MaxPool2D              -         (2,2)   0          0
BatchNorm              -         -       0          96
Conv1D                 64        (1,3)   6,144      0
BatchNorm              -         -       0          192
Conv1D                 64        (1,3)   12,288     0
BatchNorm              -         -       0          192
Flatten / Dense        32        -       276,480    0
BatchNorm              -         -       0          96
Dense                  38        -       1,216      0
Softmax                -         -       -          -
=====================  ========  ======  =========  ======

Input shape, derived from Table 1: 288 = 3*3*1*32 means one input plane, an
image of (sensor channels) x (time). The Dense-32 layer holds 276,480 = 8,640 * 32
weights, so the flattened feature map has 8,640 = 3 * 45 * 64 values. With the
6 sensor rows (accelerometer x, y, z and gyroscope x, y, z), 3 rows remain after
the 2x2 pool only if the 3x3 convolution keeps all 6 ('same' padding). Along
time, the two (1,3) convolutions without padding take 2 samples each, so the
pooled width is 45 + 4 = 49 and the input has 98 time samples: (6, 98, 1).
(With 'same' padding everywhere it would be 90 samples; we keep the binary
convolutions unpadded, which LCE runs without a padding correction.)

The first convolution has binary weights on the real-valued signal; every later
layer has binary weights and binary (sign) activations, so it converts to LCE's
``LceBconv2d``. The two dense layers are convolutions covering the whole map
(see ``blocks.dense_as_conv``).
"""
from __future__ import annotations

import larq as lq
import tensorflow as tf

from gaitbnn.models.blocks import BINARY, BINARY_WEIGHTS, batch_norm, dense_as_conv, half_precision

INPUT_SHAPE = (6, 98, 1)
CLASSES = 38
EMBEDDING = 64  # bipedalnet-embedding's output size (issue 28)


def body(inputs: tf.Tensor, float_ends: bool = False, strided: bool = False, shortcuts: bool = False) -> tf.Tensor:
    """Table 1 up to the class layer: conv1 .. dense1 (32) and its BatchNorm, the 32 values the last layer signs.

    ``strided``: conv1 with stride 2 in place of conv1 and the 2x2 max-pool (``bipedalnet_strided``);
    ``shortcuts``: real-valued shortcuts around conv2 and conv3 (``bipedalnet_shortcuts``)."""
    first = dict(half_precision(), use_bias=False) if float_ends else BINARY_WEIGHTS  # BatchNorm follows: no bias
    x = lq.layers.QuantConv2D(32, (3, 3), strides=2 if strided else 1, padding="same", name="conv1", **first)(inputs)
    if not strided:
        x = tf.keras.layers.MaxPooling2D((2, 2), name="pool1")(x)
    x = batch_norm("bn1")(x)
    for index, name in enumerate(("conv2", "conv3"), start=2):
        y = lq.layers.QuantConv2D(64, (1, 3), padding="valid", name=name, **BINARY)(x)
        y = batch_norm(f"bn{index}")(y)
        x = _shortcut(x, y, index) if shortcuts else y
    x = dense_as_conv(x, 32, BINARY, name="dense1")
    return batch_norm("bn4")(x)


def _shortcut(x: tf.Tensor, y: tf.Tensor, index: int) -> tf.Tensor:
    """``y`` plus the real-valued map ``x`` its binary convolution read (Bi-Real Net, Liu et al. 2018): ``x``
    cropped by the unpadded (1, 3) kernel's sample at each end, its channels repeated up to ``y``'s."""
    x = tf.keras.layers.Cropping2D(((0, 0), (1, 1)), name=f"shortcut{index}_crop")(x)
    repeats = int(y.shape[-1]) // int(x.shape[-1])
    if repeats > 1:
        x = tf.keras.layers.Concatenate(name=f"shortcut{index}_repeat")([x] * repeats)
    return tf.keras.layers.Add(name=f"shortcut{index}")([y, x])


def bipedalnet(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES, logit_norm: bool = False,
               float_ends: bool = False, strided: bool = False, shortcuts: bool = False,
               name: str = "bipedalnet") -> tf.keras.Model:
    """BiPedalNet per Table 1; ``classes`` is 38 in the paper. ``logit_norm``: see ``bipedalnet_scaled_logits``;
    ``float_ends``: see ``bipedalnet_float_ends``; ``strided``: see ``bipedalnet_strided``; ``shortcuts``: see
    ``bipedalnet_shortcuts``."""
    inputs = tf.keras.Input(shape=input_shape, name="signal")
    x = body(inputs, float_ends, strided, shortcuts)
    x = dense_as_conv(x, classes, half_precision() if float_ends else BINARY, name="dense2")
    if logit_norm:
        x = tf.keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3, name="logits_bn")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    outputs = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, outputs, name=name.replace("-", "_"))


def bipedalnet_scaled_logits(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """BiPedalNet (Table 1) with a BatchNorm, scale included, on its logits (this project's variant, issue 24).

    Table 1's output layer is a binary dense layer over 32 signs: its logits are integers in [-32, 32], all
    classes on one scale. A learned scale and offset per class (4 parameters per class) lets training set
    each class's confidence. LCE folds it into the last ``LceBconv2d``'s output transform: the arm64
    flatbuffer has the same ops and size as BiPedalNet's.
    """
    return bipedalnet(input_shape=input_shape, classes=classes, logit_norm=True, name="bipedalnet-scaled-logits")


def bipedalnet_float_ends(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """BiPedalNet (Table 1) with full-precision first and last layers, as BNNs usually keep them (issue 24).

    ``conv1`` learns real weights (Table 1's 288) on the real signal: a float convolution on the phone as
    Table 1's, whose +-1 weights are stored as float16 too. ``dense2`` reads the 32 real BatchNorm outputs
    instead of their signs, with real weights and a bias (33 parameters per class): LCE writes ``dense1``'s
    output as floats and runs ``dense2`` as a float op. Both layers' weights are float16 values
    (``blocks.HalfPrecision``), stored as float16 (``flatbuffer.with_float16_weights``): 32 x 2 bytes more
    per class than Table 1's 1-bit row. The middle layers (conv2, conv3, dense1) stay ``LceBconv2d``.
    On long real walks (phone-gait-10-fast) this is what closed most of the gap (docs/bipedalnet.md).
    """
    return bipedalnet(input_shape=input_shape, classes=classes, float_ends=True, name="bipedalnet-float-ends")


def bipedalnet_shortcuts(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """``bipedalnet-float-ends`` with real-valued shortcuts around conv2 and conv3 (Bi-Real Net; issue 24).

    Table 1's layers and counts as in ``bipedalnet_float_ends``, plus no parameters: each binary (1, 3)
    convolution's BatchNorm output is added to the real map it read (cropped to its width; conv2's 32 channels
    repeated to 64), so the real values before each sign reach the next layer instead of only their signs.
    On the phone the adds are float ops between the ``LceBconv2d`` ops, which then write floats, and the max-pool
    runs on floats: more instructions (docs/bipedalnet.md), the same binary weights.
    """
    return bipedalnet(input_shape=input_shape, classes=classes, float_ends=True, shortcuts=True,
                      name="bipedalnet-shortcuts")


def bipedalnet_strided(*, input_shape: tuple = INPUT_SHAPE, classes: int = CLASSES) -> tf.keras.Model:
    """BiPedalNet (Table 1) whose conv1 steps 2 in rows and time instead of being followed by the 2x2 max-pool
    (this project's variant, issue 27: fewest aarch64 instructions).

    Every Table 1 layer and count stays (the pool has no parameters); the map after conv1 is the same 3 x 49 x 32.
    conv1, a float convolution on the phone (its input is the real signal), then computes 4,704 outputs instead
    of 18,816: a quarter of its multiply-adds, and no pool. Not the same function as BiPedalNet's: a window
    is summarized by one position of each 2 x 2 block instead of its maximum (its accuracy: docs/bipedalnet.md).
    """
    return bipedalnet(input_shape=input_shape, classes=classes, strided=True, name="bipedalnet-strided")


def bipedalnet_embedding(*, input_shape: tuple = INPUT_SHAPE, classes: int = EMBEDDING, float_first: bool = False,
                         name: str = "bipedalnet_embedding") -> tf.keras.Model:
    """BiPedalNet's body (Table 1, conv1 .. dense1 and bn4) with the class layer replaced by an embedding of
    ``classes`` (64) values, for open-set verification (issue 28, ``authentication.verification``).

    The embedding layer reads bn4's 32 real values with real weights (float16, 33 x 64 x 2 bytes) and a bias:
    a sign before it, as Table 1's class layer takes, would make every embedding a function of a 32-bit code,
    and distances between people steps of one bit. conv2, conv3 and dense1 stay binary (``LceBconv2d``).
    ``float_first``: see ``bipedalnet_float_ends_embedding``.
    """
    inputs = tf.keras.Input(shape=input_shape, name="signal")
    x = dense_as_conv(body(inputs, float_ends=float_first), classes, half_precision(), name="embedding")
    return tf.keras.Model(inputs, tf.keras.layers.Flatten(name="flatten")(x), name=name.replace("-", "_"))


def bipedalnet_float_ends_embedding(*, input_shape: tuple = INPUT_SHAPE, classes: int = EMBEDDING) -> tf.keras.Model:
    """``bipedalnet-float-ends``' body with the embedding layer (issue 28): ``bipedalnet_embedding`` whose conv1
    learns real (float16) weights instead of +-1, as BNNs usually keep the first layer; its last layer, the
    embedding, is real already. On the phone conv1 was a float convolution before: same ops, the same 47.4 KiB
    arm64 file and instructions. On OU-ISIR it gains most at short schedules and with few training people
    (20%: 1.15x float ``idnet-embedding``'s walk EER, Table 1's body 1.46x; docs/verification.md).
    """
    return bipedalnet_embedding(input_shape=input_shape, classes=classes, float_first=True,
                                name="bipedalnet-float-ends-embedding")
